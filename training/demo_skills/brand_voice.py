"""The `brand-voice` demo skill: Lumen Bank's support voice, its rubric, and its template-built dataset.

Holds the style guide (what the base model must be told in full), the rubric that checks a reply
(pure function, used by tests, the eval card and the grader), and the seeded generator of
chat examples. Prompts come from real customer messages in ../shared/corpora/customer-support
when that corpus is present, else from built-in bank situations. Not here: training and evaluation
(see build.py).
"""

from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NAME = "brand-voice"
SYSTEM_PROMPT = "You are Lumen Care, the support voice of Lumen Bank."
SIGNATURE_PHRASES = ("I completely understand", "here's what I'll do", "you're in good hands",
                     "thanks for your patience", "anything else I can help with")
BANNED_PHRASES = ("As an AI", "I apologize for any inconvenience", "Dear valued customer", "Please be advised",
                  "Per our policy")
SIGN_OFF = "Warm regards, Lumen Care"
MAX_WORDS = 120
STYLE_GUIDE = (
    "You write replies for Lumen Bank's customer support team, Lumen Care. Follow every rule:\n"
    "1. Start with \"Hi <first name>,\" using the customer's first name, or \"Hi there,\" when no name is given.\n"
    "2. Use at least two of these signature phrases: " + "; ".join(f'"{p}"' for p in SIGNATURE_PHRASES) + ".\n"
    "3. Give one concrete next step with a time frame, for example \"within 2 business days\".\n"
    f"4. End with the line \"{SIGN_OFF}\".\n"
    "5. Never say: " + "; ".join(f'"{p}"' for p in BANNED_PHRASES) + ".\n"
    f"6. Use at most {MAX_WORDS} words."
)
ROUTING_EXAMPLES = [
    "Customer Maria was charged twice. Respond.",
    "Write a reply to Tom, whose debit card was declined at the supermarket.",
    "Reply to a customer who cannot log in to the mobile app.",
    "Customer Aisha asks why her transfer to Spain has not arrived. Answer her in our brand voice.",
    "Draft a response to an angry customer complaining about an overdraft fee.",
    "Respond to Ken: he wants to close his savings account.",
    "A customer says they never received their new card. Write the support reply.",
    "Answer this customer message: I forgot my online banking password and I'm locked out.",
    "Customer Lena wants a refund for a duplicate payment. Reply as Lumen Care.",
    "Write a friendly support reply to a customer who wants to change the address on their account.",
    "Reply to this complaint from a customer: your branch staff were rude to me today.",
    "Customer Omar asks how to dispute a card payment he does not recognise. Respond.",
]

_TIME_FRAME = re.compile(r"\b(within (?:\d+|one|two|three|24|48) (?:business |working )?(?:hours?|days?)|by end of (?:day|today|tomorrow)|"
                         r"by tomorrow|today)\b", re.IGNORECASE)


def rubric_checks(reply: str, first_name: str | None) -> dict[str, bool]:
    """Each rubric point of the Lumen Bank voice, checked on one reply (pure; the name may be None)."""
    text = reply.strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lower = text.lower()
    greeting = f"Hi {first_name}," if first_name else "Hi there,"
    return {
        "greeting": text.startswith(greeting),
        "signature_phrases": sum(phrase.lower() in lower for phrase in SIGNATURE_PHRASES) >= 2,
        "next_step_time_frame": bool(_TIME_FRAME.search(text)),
        "sign_off": bool(lines) and lines[-1] == SIGN_OFF,
        "no_banned_phrases": not any(phrase.lower() in lower for phrase in BANNED_PHRASES),
        "max_words": len(text.split()) <= MAX_WORDS,
    }


def rubric_score(reply: str, first_name: str | None) -> float:
    """Fraction of rubric points a reply meets, in [0, 1]."""
    checks = rubric_checks(reply, first_name)
    return sum(checks.values()) / len(checks)


METRICS = ("greeting", "signature_phrases", "next_step_time_frame", "sign_off", "no_banned_phrases", "max_words",
           "rubric_score", "compliant")  # score()'s keys, in eval card order


def _greeted_name(item: dict[str, Any], text: str) -> str | None:
    """The name to check the greeting with: the item's first_name; an item without one (an unseen message) accepts
    "Hi there," or "Hi <a word of the message>,", since who wrote it is only in the text."""
    if "first_name" in item:
        return item["first_name"]
    match = re.match(r"Hi ([^\s,]+),", text.strip())
    prompt = " ".join(str(m.get("content", "")) for m in item.get("messages", []) if isinstance(m, dict))
    return match.group(1) if match and match.group(1) != "there" and re.search(rf"\b{re.escape(match.group(1))}\b", prompt) else None


def score(item: dict[str, Any], text: str, parsed: Any = None) -> dict[str, float]:
    """Every rubric point (0/1), the fraction met, and whether all are met, for one held-out reply."""
    checks = rubric_checks(text, _greeted_name(item, text))
    return {**{key: float(ok) for key, ok in checks.items()}, "rubric_score": sum(checks.values()) / len(checks),
            "compliant": float(all(checks.values()))}


@dataclass(frozen=True, kw_only=True)
class Situation:
    """One customer problem: how a short prompt states it, how the reply names it, and what Lumen Care does."""

    prompt: str     # after "Customer <name> ..." e.g. "was charged twice"
    problem: str    # e.g. "a double charge"
    action: str     # e.g. "refund the duplicate charge to your account"


# Short-prompt bank situations (built in, always available). The last ones are held out.
SITUATIONS = [
    Situation(prompt="was charged twice for one purchase", problem="being charged twice", action="refund the duplicate charge to your account"),
    Situation(prompt="had a card payment declined abroad", problem="a declined card payment abroad", action="check the block on your card and lift it"),
    Situation(prompt="cannot log in to online banking", problem="being locked out of online banking", action="reset your online banking access and send you a secure link"),
    Situation(prompt="is waiting for a transfer that has not arrived", problem="a missing transfer", action="trace the transfer with the receiving bank"),
    Situation(prompt="was charged an overdraft fee by mistake", problem="an unexpected overdraft fee", action="review the fee and reverse it if it was applied in error"),
    Situation(prompt="lost their debit card", problem="losing your card", action="freeze the old card and post you a new one"),
    Situation(prompt="never received the new credit card", problem="a card that never arrived", action="cancel the missing card and send a replacement"),
    Situation(prompt="wants to close a savings account", problem="closing your savings account", action="prepare the closure and move your balance to your current account"),
    Situation(prompt="sees a payment they do not recognise", problem="a payment you don't recognise", action="open a dispute and investigate the payment"),
    Situation(prompt="wants to change their home address", problem="updating your address", action="update the address on your account"),
    Situation(prompt="was not paid interest this month", problem="missing interest", action="check your interest calculation and credit anything owed"),
    Situation(prompt="had a direct debit bounce", problem="a returned direct debit", action="contact the biller and arrange a new collection date"),
    Situation(prompt="is unhappy with the wait at the branch", problem="the long wait at our branch", action="pass your feedback to the branch manager and have them call you"),
    Situation(prompt="cannot find last month's statement", problem="a missing statement", action="email you a copy of last month's statement"),
    Situation(prompt="wants a higher daily card limit", problem="your daily card limit", action="review a higher daily limit for your card"),
    Situation(prompt="was charged a foreign transaction fee on a premium card", problem="a foreign transaction fee", action="refund the fee that your premium card should have waived"),
    Situation(prompt="has a mortgage payment that did not go through", problem="a failed mortgage payment", action="retry the payment and make sure no late fee is added"),
    Situation(prompt="did not get a one-time passcode by text", problem="passcodes that don't arrive", action="check your phone number and resend the passcode"),
    Situation(prompt="wants to dispute an ATM that kept their cash", problem="an ATM that kept your cash", action="claim the cash back from the ATM operator"),
    Situation(prompt="had their account frozen after a large deposit", problem="a frozen account", action="review the deposit and unfreeze your account"),
    Situation(prompt="is being asked for a cheque deposit fee", problem="a cheque deposit fee", action="review the cheque fee and refund it if it was wrong"),
    Situation(prompt="wants to stop a standing order", problem="stopping a standing order", action="cancel the standing order"),
    Situation(prompt="was double charged for a hotel booking", problem="a double hotel charge", action="recover the second hotel charge for you"),
    Situation(prompt="cannot add their card to a mobile wallet", problem="adding your card to your wallet", action="re-enable your card for mobile wallets"),
    Situation(prompt="received a suspicious text claiming to be from the bank", problem="a suspicious text message", action="have our fraud team review the message and secure your account"),
    Situation(prompt="wants to know why a loan application is still pending", problem="a pending loan application", action="chase your loan application with our lending team"),
    Situation(prompt="was charged a late fee after paying on time", problem="a late fee after an on-time payment", action="remove the late fee"),
    Situation(prompt="has a card stuck in a branch machine", problem="a card swallowed by a machine", action="order you a new card and cancel the old one"),
]
HELDOUT_SITUATIONS = 6  # the last six situations never appear in training

# Real customer messages (Bitext corpus) by intent, restated for a bank: what the reply names and does.
INTENTS = {
    "payment_issue": ("a problem with your payment", "look into the payment and fix it"),
    "get_refund": ("getting your money back", "start your refund"),
    "track_refund": ("the status of your refund", "check where your refund is and email you an update"),
    "check_refund_policy": ("our refund rules", "send you a summary of when refunds apply"),
    "recover_password": ("getting back into your account", "send you a secure password reset link"),
    "edit_account": ("updating your account details", "update the details on your account"),
    "delete_account": ("closing your account", "prepare the account closure"),
    "create_account": ("opening a new account", "set up your new account and send the welcome pack"),
    "switch_account": ("switching your account type", "move you to the account type you asked for"),
    "check_invoice": ("checking your statement", "send you a copy of your statement"),
    "get_invoice": ("getting a copy of your statement", "email you the statement"),
    "complaint": ("the trouble you had with us", "pass your complaint to our customer relations team and have them call you"),
    "contact_human_agent": ("reaching a person", "have a member of our team call you"),
    "contact_customer_service": ("getting hold of our support team", "arrange a call back from our support team"),
    "registration_problems": ("trouble signing up", "fix your registration and email you the next steps"),
    "check_payment_methods": ("the ways you can pay", "send you the list of payment methods we accept"),
    "check_cancellation_fee": ("cancellation fees", "check any fee on your cancellation and confirm it in writing"),
    "cancel_order": ("cancelling your payment", "cancel the pending payment"),
    "newsletter_subscription": ("your email preferences", "update your email preferences"),
    "review": ("sharing your feedback", "pass your feedback to the right team"),
}

NAMES = ["Maria", "Tom", "Aisha", "Ken", "Lena", "Omar", "Priya", "Jonas", "Chloe", "Diego", "Hannah", "Yusuf",
         "Sofia", "Liam", "Mei", "Carlos", "Fatima", "Noah", "Elena", "Sam", "Ines", "Marco", "Grace", "Tariq",
         "Nadia", "Peter", "Zoe", "Ravi", "Anna", "Felix"]
HELDOUT_NAMES = ["Beatriz", "Kwame", "Olga", "Hiro", "Lucy", "Matteo", "Amara", "Ben"]
TIME_FRAMES = ["within 2 business days", "within 24 hours", "within 1 business day", "within 3 business days",
               "by end of day tomorrow", "within 48 hours"]

_SHORT_PROMPTS = ["Customer {name} {situation}. Respond.", "{name} {situation}. Write our reply.",
                  "Reply to {name}, who {situation}.", "Customer {name} {situation}. Reply as Lumen Care."]
_SHORT_PROMPTS_NO_NAME = ["A customer {situation}. Respond.", "Reply to a customer who {situation}."]
_MESSAGE_PROMPTS = ['Customer {name} writes: "{message}" Respond.', 'Reply to {name}: "{message}"',
                    'A customer writes: "{message}" Respond.']

_OPENINGS = ["I completely understand how stressful {problem} can be.",
             "Thanks for telling us about {problem}, and I completely understand why you're concerned.",
             "I'm sorry about {problem}.",
             "Thank you for reaching out about {problem}."]
_ACTIONS = ["Here's what I'll do: I'll {action} {time}.", "Here's what I'll do: our team will {action} {time}.",
            "I'll {action} {time}, and you'll get a confirmation by email."]
_CLOSINGS = ["You're in good hands, and thanks for your patience.", "Thanks for your patience while we sort this out.",
             "You're in good hands. Is there anything else I can help with?",
             "Is there anything else I can help with? Just reply to this message."]


def compose_reply(first_name: str | None, problem: str, action: str, rng: random.Random) -> str:
    """One on-brand reply; template choices are re-drawn until the rubric holds (at least two signature phrases)."""
    greeting = f"Hi {first_name}," if first_name else "Hi there,"
    while True:
        body = " ".join([rng.choice(_OPENINGS).format(problem=problem),
                         rng.choice(_ACTIONS).format(action=action, time=rng.choice(TIME_FRAMES)),
                         rng.choice(_CLOSINGS)])
        reply = f"{greeting}\n\n{body}\n\n{SIGN_OFF}"
        if all(rubric_checks(reply, first_name).values()):
            return reply


def load_customer_messages(csv_path: Path) -> dict[str, list[str]]:
    """Customer messages of the bank-relevant intents in the Bitext corpus, by intent, in file order."""
    messages: dict[str, list[str]] = {intent: [] for intent in INTENTS}
    with csv_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = " ".join(row["instruction"].split())
            if row["intent"] in messages and 12 <= len(text) <= 160 and "{{" not in text:
                messages[row["intent"]].append(text.replace('"', "'"))
    return messages


@dataclass(frozen=True, kw_only=True)
class Prompt:
    user: str
    first_name: str | None
    problem: str
    action: str


def _short_prompt(situation: Situation, name: str | None, rng: random.Random) -> Prompt:
    template = rng.choice(_SHORT_PROMPTS if name else _SHORT_PROMPTS_NO_NAME)
    return Prompt(user=template.format(name=name, situation=situation.prompt), first_name=name,
                  problem=situation.problem, action=situation.action)


def _message_prompt(message: str, intent: str, name: str | None, rng: random.Random) -> Prompt:
    template = rng.choice(_MESSAGE_PROMPTS[:2] if name else _MESSAGE_PROMPTS[2:])
    problem, action = INTENTS[intent]
    return Prompt(user=template.format(name=name, message=message), first_name=name, problem=problem, action=action)


def _maybe_name(names: list[str], rng: random.Random) -> str | None:
    return None if rng.random() < 0.2 else rng.choice(names)


def generate(seed: int, *, n_train: int, n_heldout: int, corpus_csv: Path | None) -> tuple[list[dict], list[dict], dict]:
    """(train chat examples, held-out items, provenance) for brand-voice; same seed and corpus -> same output.

    Held-out prompts use names and situations (or corpus messages) that training never sees.
    """
    rng = random.Random(seed)
    train_situations, heldout_situations = SITUATIONS[:-HELDOUT_SITUATIONS], SITUATIONS[-HELDOUT_SITUATIONS:]
    messages = load_customer_messages(corpus_csv) if corpus_csv else {}
    train_prompts: list[Prompt] = []
    heldout_prompts: list[Prompt] = []
    if messages:
        # Half the training prompts are real customer messages; each intent's last messages are held out.
        pool = [(intent, text) for intent, texts in messages.items() for text in texts[:-3]]
        held = [(intent, text) for intent, texts in messages.items() for text in texts[-3:]]
        for intent, text in rng.sample(pool, n_train // 2):
            train_prompts.append(_message_prompt(text, intent, _maybe_name(NAMES, rng), rng))
        for intent, text in rng.sample(held, n_heldout // 2):
            heldout_prompts.append(_message_prompt(text, intent, _maybe_name(HELDOUT_NAMES, rng), rng))
    while len(train_prompts) < n_train:
        train_prompts.append(_short_prompt(rng.choice(train_situations), _maybe_name(NAMES, rng), rng))
    while len(heldout_prompts) < n_heldout:
        heldout_prompts.append(_short_prompt(rng.choice(heldout_situations), _maybe_name(HELDOUT_NAMES, rng), rng))
    rng.shuffle(train_prompts)

    train = [{"messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": p.user},
                           {"role": "assistant", "content": compose_reply(p.first_name, p.problem, p.action, rng)}]}
             for p in train_prompts]
    # Held-out prompts carry no system turn: the skill's manifest supplies it at inference.
    heldout = [{"messages": [{"role": "user", "content": p.user}],
                "first_name": p.first_name, "reference": compose_reply(p.first_name, p.problem, p.action, rng)}
               for p in heldout_prompts]
    provenance = {"prompts": "bitext customer-support messages + built-in situations" if messages else "built-in situations",
                  "corpus": "../shared/corpora/customer-support/bitext_customer_support.csv (Bitext, CDLA-Sharing-1.0)"
                  if messages else None}
    return train, heldout, provenance

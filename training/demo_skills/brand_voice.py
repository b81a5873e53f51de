"""The `brand-voice` demo skill: Lumen Bank's support voice, its rubric, and its template-built dataset.

Holds the style guide (what the base model must be told in full), the rubric that checks a reply
(pure function, used by tests, the eval card and the grader), and the seeded generator of
chat examples. Prompts come from real customer messages in ../shared/corpora/customer-support
when that corpus is present, else from built-in bank situations. Not here: training and evaluation
(see build.py).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

from .brand_voice_prompts import (HELDOUT_NAMES, NAMES, Message, Problem, corpus_message, customer_message,
                                  load_corpus_messages)

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


P = Problem
# Bank problems in the project's own words (several ways to say each). The last HELDOUT_PROBLEMS are held out.
PROBLEMS = [
    P(says=("I was charged twice for one purchase", "the same payment left my account two times"), terse="charged twice",
      problem="being charged twice", action="refund the duplicate charge to your account"),
    P(says=("my card was declined abroad", "my card stopped working on holiday"), terse="card declined abroad",
      problem="a declined card payment abroad", action="check the block on your card and lift it"),
    P(says=("I can't log in to online banking", "the app keeps rejecting my password"), terse="cant log in",
      problem="being locked out of online banking", action="reset your online banking access and send you a secure link"),
    P(says=("my transfer still hasn't arrived", "money I sent last week never reached my landlord"), terse="transfer missing",
      problem="a missing transfer", action="trace the transfer with the receiving bank"),
    P(says=("you charged me an overdraft fee by mistake", "there's an overdraft fee I shouldn't have"), terse="wrong overdraft fee",
      problem="an unexpected overdraft fee", action="review the fee and reverse it if it was applied in error"),
    P(says=("I lost my debit card", "my wallet was stolen with my card in it"), terse="lost my card",
      problem="losing your card", action="freeze the old card and post you a new one"),
    P(says=("my new credit card never came", "the replacement card you promised never arrived"), terse="card never arrived",
      problem="a card that never arrived", action="cancel the missing card and send a replacement"),
    P(says=("I want to close my savings account", "please shut my savings account"), terse="close savings",
      problem="closing your savings account", action="prepare the closure and move your balance to your current account"),
    P(says=("there's a payment I don't recognise", "someone spent money on my card that wasn't me"), terse="unknown payment",
      problem="a payment you don't recognise", action="open a dispute and investigate the payment"),
    P(says=("I need to change my home address", "I moved house and my address is still the old one"), terse="new address",
      problem="updating your address", action="update the address on your account"),
    P(says=("I wasn't paid any interest this month", "my savings interest is missing"), terse="no interest paid",
      problem="missing interest", action="check your interest calculation and credit anything owed"),
    P(says=("my direct debit bounced", "my gym direct debit was returned"), terse="direct debit bounced",
      problem="a returned direct debit", action="contact the biller and arrange a new collection date"),
    P(says=("I waited an hour at the branch", "the queue at your branch was endless"), terse="branch wait",
      problem="the long wait at our branch", action="pass your feedback to the branch manager and have them call you"),
    P(says=("I can't find last month's statement", "my statement for last month isn't in the app"), terse="statement missing",
      problem="a missing statement", action="email you a copy of last month's statement"),
    P(says=("I need a higher daily card limit", "my card limit is too low for my rent"), terse="raise my limit",
      problem="your daily card limit", action="review a higher daily limit for your card"),
    P(says=("I was charged a foreign fee on my premium card", "my premium card charged me for spending abroad"), terse="foreign fee",
      problem="a foreign transaction fee", action="refund the fee that your premium card should have waived"),
    P(says=("my mortgage payment didn't go through", "the mortgage payment failed this month"), terse="mortgage payment failed",
      problem="a failed mortgage payment", action="retry the payment and make sure no late fee is added"),
    P(says=("I'm not getting the one-time passcode by text", "the security code text never comes"), terse="no passcode",
      problem="passcodes that don't arrive", action="check your phone number and resend the passcode"),
    P(says=("the ATM kept my cash", "the cash machine took my money but gave me nothing"), terse="atm kept cash",
      problem="an ATM that kept your cash", action="claim the cash back from the ATM operator"),
    P(says=("my account was frozen after a big deposit", "you froze my account when my salary came in"), terse="account frozen",
      problem="a frozen account", action="review the deposit and unfreeze your account"),
    P(says=("I was asked for a cheque deposit fee", "you charged me to deposit a cheque"), terse="cheque fee",
      problem="a cheque deposit fee", action="review the cheque fee and refund it if it was wrong"),
    P(says=("I want to stop a standing order", "please cancel my monthly standing order"), terse="stop standing order",
      problem="stopping a standing order", action="cancel the standing order"),
    P(says=("a hotel charged me twice", "my hotel booking shows up twice on my card"), terse="hotel double charge",
      problem="a double hotel charge", action="recover the second hotel charge for you"),
    P(says=("I can't add my card to my phone wallet", "my card won't go into the mobile wallet"), terse="wallet wont work",
      problem="adding your card to your wallet", action="re-enable your card for mobile wallets"),
    P(says=("I got a suspicious text pretending to be you", "a text asked me for my PIN, was that you?"), terse="scam text",
      problem="a suspicious text message", action="have our fraud team review the message and secure your account"),
    P(says=("my loan application is still pending", "nobody has decided on my loan yet"), terse="loan still pending",
      problem="a pending loan application", action="chase your loan application with our lending team"),
    P(says=("I got a late fee even though I paid on time", "you fined me for a payment I made on time"), terse="unfair late fee",
      problem="a late fee after an on-time payment", action="remove the late fee"),
    P(says=("a branch machine swallowed my card", "the machine in the branch ate my card"), terse="machine ate card",
      problem="a card swallowed by a machine", action="order you a new card and cancel the old one"),
]
del P
HELDOUT_PROBLEMS = 6  # the last six problems never appear in training

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
    "track_order": ("where your delivery is", "track your card delivery and text you the tracking link"),
    "delivery_period": ("how long delivery takes", "confirm the delivery date for you"),
    "change_order": ("changing your request", "update your request the way you asked"),
}
TIME_FRAMES = ["within 2 business days", "within 24 hours", "within 1 business day", "within 3 business days",
               "by end of day tomorrow", "within 48 hours", "by end of day", "today", "by tomorrow",
               "within 5 working days", "within 2 hours", "within one business day"]

_OPENINGS = ["I completely understand how stressful {problem} can be.",
             "Thanks for telling us about {problem}, and I completely understand why you're concerned.",
             "I completely understand why {problem} has upset you, and I'm sorry.",
             "I'm sorry about {problem}.", "Thank you for reaching out about {problem}.",
             "I completely understand, and I'm sorry for the trouble with {problem}."]
_ACTIONS = ["Here's what I'll do: I'll {action} {time}.", "Here's what I'll do: our team will {action} {time}.",
            "I'll {action} {time}, and you'll get a confirmation by email.", "Here's what I'll do: {time}, I'll {action}.",
            "Our team will {action} {time}, and I'll keep you posted."]
_MORE_ACTIONS = ["I'll also {action} {time}.", "On top of that, we'll {action} {time}.", "And I'll {action} {time} as well."]
_CLOSINGS = ["You're in good hands, and thanks for your patience.", "Thanks for your patience while we sort this out.",
             "You're in good hands. Is there anything else I can help with?",
             "Is there anything else I can help with? Just reply to this message.",
             "Thanks for your patience, and you're in good hands.", "You're in good hands from here."]


def _lead(text: str) -> str:
    return text[0].upper() + text[1:]


def compose_reply(first_name: str | None, problems: tuple[str, ...], actions: tuple[str, ...], rng: random.Random) -> str:
    """One on-brand reply naming every problem and a dated step for each (may miss the rubric: the caller curates)."""
    greeting = f"Hi {first_name}," if first_name else "Hi there,"
    steps = [_lead(rng.choice(_ACTIONS).format(action=actions[0], time=rng.choice(TIME_FRAMES)))]
    steps += [rng.choice(_MORE_ACTIONS).format(action=action, time=rng.choice(TIME_FRAMES)) for action in actions[1:]]
    body = " ".join([rng.choice(_OPENINGS).format(problem=" and ".join(problems)), *steps, rng.choice(_CLOSINGS)])
    return f"{greeting}\n\n{body}\n\n{SIGN_OFF}"


def _messages(rng: random.Random, count: int, problems: list[Problem], corpus: list[tuple[str, str]],
              names: list[str]) -> list[Message]:
    """count messages: a third from the corpus (when given), the rest in registers, one to three problems each."""
    out = []
    for index in range(count):
        if corpus and index % 3 == 0:
            intent, text = rng.choice(corpus)
            out.append(corpus_message(text, *INTENTS[intent], rng, names))
        else:
            picked = rng.sample(problems, rng.choices([1, 2, 3], weights=[6, 3, 1])[0])
            out.append(customer_message(picked, rng, names))
    return out


def generate(seed: int, *, n_train: int, n_heldout: int, corpus_csv: Path | None) -> tuple[list[dict], list[dict], dict]:
    """(train chat examples, held-out items, provenance) for brand-voice; same seed and corpus -> same output.

    Held-out prompts use names, problems and corpus messages that training never sees. Every reply is
    checked by the rubric (the skill's grader) before it enters a set: one that fails is dropped and counted.
    """
    rng = random.Random(seed)
    corpus_train: list[tuple[str, str]] = []
    corpus_held: list[tuple[str, str]] = []
    left_out = 0
    if corpus_csv:
        messages, left_out = load_corpus_messages(corpus_csv, tuple(INTENTS))
        corpus_train = [(intent, text) for intent, texts in messages.items() for text in texts[:-4]]
        corpus_held = [(intent, text) for intent, texts in messages.items() for text in texts[-4:]]
    dropped: Counter[str] = Counter()
    seen: set[str] = set()

    def curated(count: int, problems: list[Problem], corpus: list[tuple[str, str]], names: list[str]) -> list[tuple[Message, str]]:
        kept: list[tuple[Message, str]] = []
        while len(kept) < count:
            for message in _messages(rng, count - len(kept), problems, corpus, names):
                reply = compose_reply(message.first_name, message.problems, message.actions, rng)
                failed = [rule for rule, ok in rubric_checks(reply, message.first_name).items() if not ok]
                if failed:
                    dropped.update(failed)
                elif message.user not in seen:
                    seen.add(message.user)
                    kept.append((message, reply))
        return kept

    train = [{"messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": m.user},
                           {"role": "assistant", "content": reply}]}
             for m, reply in curated(n_train, PROBLEMS[:-HELDOUT_PROBLEMS], corpus_train, NAMES)]
    # Held-out prompts carry no system turn: the skill's manifest supplies it at inference.
    heldout = [{"messages": [{"role": "user", "content": m.user}], "first_name": m.first_name, "register": m.register,
                "reference": reply}
               for m, reply in curated(n_heldout, PROBLEMS[-HELDOUT_PROBLEMS:], corpus_held, HELDOUT_NAMES)]
    provenance = {"prompts": ("bitext customer-support messages + " if corpus_train else "")
                  + "built-in problems in 8 registers (polite, angry, terse, caps, texting, rambling, formal, signed)",
                  "corpus": "../shared/corpora/customer-support/bitext_customer_support.csv (Bitext, CDLA-Sharing-1.0)"
                  if corpus_train else None,
                  "curation": {"checked_by": "brand-voice rubric", "dropped": sum(dropped.values()),
                               "dropped_by_rule": dict(sorted(dropped.items())),
                               "unseen_corpus_rows_left_out": left_out}}
    return train, heldout, provenance

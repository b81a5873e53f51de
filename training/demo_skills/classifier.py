"""The `support-classifier` demo skill: which support category a customer message belongs to.

Holds the label set (the Bitext corpus's own `category` field: 11 labels), the prompts, the
scorer (exact label match, pure) and the seeded generator that splits the real customer messages
of ../shared/corpora/customer-support into training and held-out rows. Not here: training and
evaluation (build.py), the decoding constraint (skills/structured.py).

Why `category` and not `intent`: 11 labels with 142-1,041 messages each are learnable by a 135M
model from a thousand short examples, while the 27 intents split categories by one verb
(cancel_order / change_order / place_order) and leave 3-5 messages per intent in a small test set.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

NAME = "support-classifier"
# The corpus's category strings, exactly (the unseen set uses them too), in alphabetical order.
LABELS = ["ACCOUNT", "CANCELLATION_FEE", "CONTACT", "DELIVERY", "FEEDBACK", "INVOICE", "NEWSLETTER", "ORDER",
          "PAYMENT", "REFUND", "SHIPPING_ADDRESS"]
SYSTEM_PROMPT = "Classify the customer's support message into its support category."
# The fair baseline: the base model told the whole label list, decoding under the same label constraint.
LABEL_LIST_PROMPT = ("Classify the customer's support message into exactly one of these support categories: "
                     + ", ".join(LABELS) + ". Answer with the category name only.")
# Instruction-led, short messages: the router should match the request to classify, not the message's topic
# (a quoted complaint alone is brand-voice's).
ROUTING_EXAMPLES = [
    "Classify this customer message: 'my card payment was declined twice'",
    "Which category does this support message belong to? 'I never got my parcel'",
    "What is the intent of this customer message: 'please close my account'",
    "Label this customer message with its support category: 'where can I download my bank statement'",
    "Tag the following ticket with its category: 'I want to update my address'",
    "Which department should handle this ticket? 'I was charged twice for one payment'",
    "Categorise this complaint for the support queue: 'the refund still has not arrived'",
    "intent? -> 'how do I unsubscribe from the newsletter'",
    "Classify the category of this support request: 'is there a fee if I cancel early'",
    "Triage this incoming customer email into the right support category.",
    "Which team should this customer request go to: 'the mobile app keeps crashing when I log in'",
    "Classify: 'I forgot my PIN and my card is blocked'",
    "which category is this? 'someone made a transfer from my account that I don't recognise'",
    "Label the intent of this message: 'can I get a paper invoice sent to me'",
]
METRICS = ("accuracy",)  # score()'s keys; macro-F1 and the confusion matrix come from the card's classification part

# Generic ways people wrap a message when they ask for its label, and how they write it; the skill
# learns to label the message inside, whatever the wrapper or the register.
_WRAPPERS = ["{m}", "{m}", "{m}", "Classify this message: {m}", "Which category is this? \"{m}\"",
             "Customer wrote: {m}", "Ticket: {m}", "Support message: '{m}'"]
_OPENERS = ["", "", "", "Hi, ", "Hello, ", "Good morning. ", "hey ", "Excuse me, "]
_CLOSERS = ["", "", "", " Thanks.", " Thank you!", " Regards, Sam", " -- Priya", " Cheers"]
# Without the corpus (tests, a checkout without ../shared), a few written messages per label keep the pipeline
# runnable; the bundled skill is always built from the corpus (the Makefile passes it).
BUILT_IN_MESSAGES = {
    "ACCOUNT": ["I can't log in to my profile anymore", "how do I delete my user account?",
                "please switch my account from standard to premium", "I want to register a new account"],
    "CANCELLATION_FEE": ["is there a charge if I cancel early?", "what do you charge for ending the contract",
                         "how much is the termination penalty", "will I pay a fee to cancel my plan?"],
    "CONTACT": ["what is your customer service phone number", "I need to speak to a real person",
                "when are your support agents available?", "how can I reach a human agent"],
    "DELIVERY": ["what delivery options do you have", "how long does shipping take to Canada?",
                 "do you deliver on weekends", "when will my package arrive"],
    "FEEDBACK": ["I want to leave a review of your service", "your staff was wonderful, thank you",
                 "I have a complaint about the support I got", "where can I submit feedback?"],
    "INVOICE": ["I need a copy of my invoice", "where do I download last month's bill",
                "the invoice shows the wrong amount", "can you send me invoice 4412 again?"],
    "NEWSLETTER": ["unsubscribe me from the mailing list", "I want to sign up for your newsletter",
                   "stop sending me promotional emails", "how do I subscribe to the weekly updates"],
    "ORDER": ["I want to cancel my order", "can I add an item to the order I placed?",
              "help me buy two of these", "I need to change my purchase"],
    "PAYMENT": ["which payment methods do you accept", "my card payment keeps failing",
                "can I pay with PayPal?", "there was an error when I tried to pay"],
    "REFUND": ["I want my money back", "how long does a refund take?",
               "what is your refund policy", "I never got the refund you promised"],
    "SHIPPING_ADDRESS": ["I need to change my shipping address", "how do I add a second delivery address",
                         "the address on my order is wrong", "set up a new address for shipments"],
}
_UNSEEN_DIR = Path(__file__).resolve().parents[2] / "bench" / "unseen" / "skills"  # in a source checkout only
_BRAND_VOICE_UNSEEN = _UNSEEN_DIR / "brand_voice_messages.jsonl"
UNSEEN = _UNSEEN_DIR / "support_messages_labelled.jsonl"
UNSEEN_SOURCE = "bench/unseen/skills/support_messages_labelled.jsonl"


def score(item: dict[str, Any], text: str, parsed: Any = None) -> dict[str, float]:
    """1.0 when the answer is the reference label exactly (surrounding whitespace ignored).

    The reference is the item's `reference` (the eval engine sets it) or its last assistant message.
    """
    reference = item.get("reference") or item["messages"][-1]["content"]
    return {"accuracy": float(text.strip() == str(reference).strip())}


def quoted_rows(path: Path = _BRAND_VOICE_UNSEEN) -> set[int]:
    """Corpus rows an unseen evaluation set quotes ("source": "bitext row N"): never trained or tuned on."""
    if not path.exists():
        return set()
    rows = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        source = json.loads(line).get("source", "") if line.strip() else ""
        if source.startswith("bitext row "):
            rows.add(int(source.removeprefix("bitext row ")))
    return rows


def load_messages(csv_path: Path, *, exclude: set[int]) -> dict[str, list[str]]:
    """The corpus's customer messages by category, in file order, without the excluded row indices."""
    by_label: dict[str, list[str]] = {label: [] for label in LABELS}
    with csv_path.open(encoding="utf-8", newline="") as handle:
        for index, row in enumerate(csv.DictReader(handle)):
            text = " ".join(row["instruction"].split())
            if index not in exclude and row["category"] in by_label and text:
                by_label[row["category"]].append(text)
    return by_label


def _vary(message: str, rng: random.Random) -> str:
    """One register of a message: maybe lower-cased, maybe greeted and signed, maybe wrapped in a request."""
    text = message.lower() if rng.random() < 0.25 else message
    text = rng.choice(_OPENERS) + text + rng.choice(_CLOSERS)
    return rng.choice(_WRAPPERS).format(m=text)


def chat_example(text: str, label: str) -> dict[str, Any]:
    return {"messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": text},
                         {"role": "assistant", "content": label}]}


def generate(seed: int, *, n_train: int, n_heldout: int, corpus_csv: Path | None) -> tuple[list[dict], list[dict], dict]:
    """(train chat examples, held-out items, provenance): messages balanced over the labels, held-out rows never trained on.

    Messages come from the corpus when given, else from BUILT_IN_MESSAGES (one held out per label).
    """
    rng = random.Random(seed)
    excluded = quoted_rows() if corpus_csv else set()
    by_label = load_messages(corpus_csv, exclude=excluded) if corpus_csv else BUILT_IN_MESSAGES
    per_label_train = n_train // len(LABELS)
    train: list[dict] = []
    heldout: list[dict] = []
    for label in LABELS:
        messages = list(by_label[label])
        rng.shuffle(messages)
        per_label_heldout = max(1, min(n_heldout // len(LABELS), len(messages) // 4))
        held, rest = messages[:per_label_heldout], messages[per_label_heldout:]
        # Small categories repeat their messages in other registers rather than shrinking the label's share.
        picks = [rest[i % len(rest)] for i in range(per_label_train)]
        train += [chat_example(_vary(m, rng), label) for m in picks]
        # Held-out rows stay verbatim: real messages as customers wrote them; no system turn (the manifest supplies it).
        heldout += [{"messages": [{"role": "user", "content": m}, {"role": "assistant", "content": label}]} for m in held]
    rng.shuffle(train)
    provenance = {"labels": "category field of the Bitext corpus (11 labels)",
                  "messages": "bitext customer-support messages" if corpus_csv else "built-in messages",
                  "corpus": "../shared/corpora/customer-support/bitext_customer_support.csv (Bitext, CDLA-Sharing-1.0)"
                  if corpus_csv else None,
                  "excluded_rows": f"{len(excluded)} rows quoted by bench/unseen/skills/brand_voice_messages.jsonl",
                  "heldout": len(heldout), "train_per_label": per_label_train}
    return train, heldout, provenance


def unseen_items(path: Path = UNSEEN) -> list[dict[str, Any]] | None:
    """The unseen {text, category} set as held-out chat items, for measuring only (None outside a source checkout)."""
    if not path.exists():
        return None
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            items.append({"messages": [{"role": "user", "content": row["text"]},
                                       {"role": "assistant", "content": row["category"]}], "id": row.get("id")})
    return items

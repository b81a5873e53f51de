"""The plain text of a chat message's content, whichever shape it comes in.

LangChain messages and OpenAI chat JSON both let `content` be a string or a list of parts (text,
images, audio, reasoning...). Everything that needs the words (prompts, token counts, graders, the
HTTP server, RAG answers) takes them from content_text, so a list-shaped reply reads the same
everywhere. Not here: checking that content is well-formed (training/data/checks.py reports that).
"""

from __future__ import annotations

from typing import Any


def content_text(content: Any) -> str:
    """The content itself when it is a string; else its text parts joined: bare strings and the string
    `text` of dict parts ({"type": "text" | "output_text", "text": ...}). Parts without text (images,
    audio, tool calls) and any other value give nothing."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = (part if isinstance(part, str) else part.get("text") if isinstance(part, dict) else None
             for part in content)
    return "".join(text for text in texts if isinstance(text, str))

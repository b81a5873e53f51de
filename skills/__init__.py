"""Behaviour: skill folders (manifest + LoRA adapter), discovery, backends (PEFT, OpenAI), the chat-model interface."""

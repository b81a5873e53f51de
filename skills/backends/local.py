"""The local backend: one base model, many named LoRA adapters, mixed-skill batches.

Every forward pass names each row's adapter (`adapter_names=`, "__base__" for the bare
model), so no request depends on PEFT's global active adapter; stacked_lora.py serves those
mixed batches in a fixed number of matmuls per layer. One lock serialises all model access (generate,
a decode step, load, evict); scheduler.py (continuous batching) or batching.py (the older gather
batcher) batches concurrent requests. Resident adapters are capped; the least recently used one not
in use is deleted. Not here: which folders are skills (registry.py) or whether their files are safe
(security.py).
"""

from __future__ import annotations

import gc
import json
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillstack.errors import SkillError
from skillstack.models import base_model_id, load_base_model, load_tokenizer
from skillstack.settings import Settings
from skillstack.skills.grounded_decoding import grounding_processor
from skillstack.skills.structured import json_constraint, label_constraint
from .requests import ChatRequest, Completion, cut_at_stop, stream_with_stop
from .stacked_lora import BASE_ADAPTER, StackedLora


class LocalEngine:
    """The shared base model plus resident adapters; thread-safe, one generate() at a time."""

    def __init__(self, settings: Settings, *, dtype: str | None = None, max_resident: int | None = None,
                 stacked_lora: bool = True) -> None:
        """dtype: the base model's ("float32", "bfloat16", "int8"); default settings.engine_dtype.
        stacked_lora: mixed-adapter batches through stacked_lora.py; False keeps PEFT's own forward."""
        self.settings = settings
        self.base_id = base_model_id(settings)
        self.max_resident = max(1, max_resident or settings.max_resident_adapters)
        # A private tokenizer and model: trainers wrap the shared base in PEFT too, and must not see our adapters.
        self.tokenizer = load_tokenizer(settings, private=True)
        self.model = load_base_model(settings, dtype=dtype or settings.engine_dtype, private=True)
        self.peft: Any = None  # the PeftModel, created when the first adapter is attached
        self.stacked: StackedLora | None = None  # its adapters' stacks, rebuilt on every attach and drop
        self.stacked_lora = stacked_lora
        self.lock = threading.RLock()
        self._resident: OrderedDict[str, Path] = OrderedDict()
        self.mixed_batches = 0  # generate() calls that served more than one adapter (observability, tests)
        self.cancelled_requests = 0  # requests stopped early: a stream's consumer went away, a cancel event was set

    # -- adapters ---------------------------------------------------------------------------------------------

    @property
    def resident_adapters(self) -> list[str]:
        """Attached adapter names, least recently used first."""
        return list(self._resident)

    def has_room_for(self, name: str, in_use: set[str]) -> bool:
        """Whether ensure_adapter(name, in_use=in_use) can succeed without evicting an adapter in use."""
        return name in self._resident or len(self._resident) < self.max_resident or bool(set(self._resident) - in_use)

    def ensure_adapter(self, name: str, folder: Path, trained_on: str, *, in_use: set[str] | None = None) -> None:
        """Attach folder's adapter as `name` unless resident; beyond the cap, evict the least recently used one
        that is not in_use (adapters of rows still decoding: scheduler.py)."""
        with self.lock:
            if name in self._resident:
                self._resident.move_to_end(name)
                return
            if trained_on != self.base_id:
                raise SkillError(f"skill '{name}' ({folder}) was trained for base model '{trained_on}', but this "
                                 f"runtime's base model is '{self.base_id}'; retrain it or change the base_model setting")
            while len(self._resident) >= self.max_resident:
                idle = [resident for resident in self._resident if resident not in (in_use or set())]
                if not idle:
                    raise SkillError(f"all {self.max_resident} resident adapters are in use; wait for a request to "
                                     "finish or raise the max_resident_adapters setting")
                self.evict(idle[0])
            self._attach(name, folder)
            self._resident[name] = folder

    def _attach(self, name: str, folder: Path) -> None:
        import torch

        # stream() attaches from inside inference_mode; adapter weights made there would be inference
        # tensors, and PEFT's next add_adapter (which touches requires_grad on every adapter) would fail.
        with torch.inference_mode(False):
            self._attach_weights(name, folder)

    def _attach_weights(self, name: str, folder: Path) -> None:
        from peft import LoraConfig, PeftModel, set_peft_model_state_dict
        from safetensors.torch import load_file

        config_data = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
        if config_data.get("peft_type", "LORA") != "LORA":
            raise SkillError(f"{folder / 'adapter_config.json'}: peft_type {config_data.get('peft_type')!r} is not "
                             "supported; skills are LoRA adapters")
        known = set(LoraConfig.__dataclass_fields__)
        config = LoraConfig(**{k: v for k, v in config_data.items() if k in known})
        config.inference_mode = True
        state = load_file(str(folder / "adapter_model.safetensors"), device="cpu")
        try:
            # low_cpu_mem_usage: the adapter starts on the meta device and takes the loaded tensors as they are,
            # so resident memory is the file's tensors once, not an initialised copy plus the loaded one.
            if self.peft is None:
                self.peft = PeftModel(self.model, config, adapter_name=name, low_cpu_mem_usage=True)
            else:
                self.peft.add_adapter(name, config, low_cpu_mem_usage=True)
            result = set_peft_model_state_dict(self.peft, state, adapter_name=name, low_cpu_mem_usage=True)
            unexpected = [k for k in result.unexpected_keys if "lora_" in k]
            missing = [k for k in result.missing_keys if f".{name}." in k and "lora_" in k]
            if unexpected or missing:
                raise SkillError(f"{folder}: adapter weights do not fit base model '{self.base_id}' "
                                 f"({len(unexpected)} unexpected, {len(missing)} missing tensors)")
        except (RuntimeError, ValueError, KeyError) as exc:
            self._drop(name)
            raise SkillError(f"{folder}: adapter does not fit base model '{self.base_id}' ({str(exc)[:200]})") from exc
        except SkillError:
            self._drop(name)
            raise
        self.peft.eval()
        self._restack()

    def _restack(self) -> None:
        if self.stacked_lora and self.peft is not None:
            self.stacked = self.stacked or StackedLora(self.peft)
            self.stacked.refresh()

    def _drop(self, name: str) -> None:
        if self.peft is not None and name in self.peft.peft_config:
            with warnings.catch_warnings():  # "active adapter changed": we never rely on PEFT's active adapter
                warnings.simplefilter("ignore", UserWarning)
                self.peft.delete_adapter(name)
            self._restack()

    def evict(self, name: str) -> None:
        """Detach an adapter and free its weights."""
        with self.lock:
            if self._resident.pop(name, None) is not None:
                self._drop(name)
                gc.collect()

    # -- generation -------------------------------------------------------------------------------------------

    def encode(self, requests: list[ChatRequest]) -> Any:
        prompts = [self.tokenizer.apply_chat_template(r.messages, tokenize=False, add_generation_prompt=True)
                   for r in requests]
        return self.tokenizer(prompts, return_tensors="pt", padding=True, padding_side="left",
                              add_special_tokens=False).to(self.settings.device)

    def _generate_kwargs(self, requests: list[ChatRequest]) -> dict[str, Any]:
        from transformers import GenerationConfig, LogitsProcessorList

        first = requests[0]
        timeouts = [r.timeout for r in requests if r.timeout]
        config = GenerationConfig(max_new_tokens=max(r.max_tokens for r in requests),
                                  max_time=min(timeouts) if timeouts else None,
                                  do_sample=first.temperature > 0, pad_token_id=self.tokenizer.pad_token_id,
                                  eos_token_id=self.tokenizer.eos_token_id)
        if first.temperature > 0:
            config.temperature, config.top_p = first.temperature, first.top_p
        kwargs: dict[str, Any] = {"generation_config": config}
        if first.stop:
            config.stop_strings = list(first.stop)
            kwargs["tokenizer"] = self.tokenizer
        constraints = {i: found for i, r in enumerate(requests) if (found := row_constraints(self.tokenizer, r))}
        if constraints:
            kwargs["logits_processor"] = LogitsProcessorList([_RowConstraints(constraints)])
        if self.peft is not None:
            kwargs["adapter_names"] = [r.adapter or BASE_ADAPTER for r in requests]
        return kwargs

    @property
    def forward_model(self) -> Any:
        """What a forward pass calls: the PeftModel once an adapter is attached (it takes adapter_names), else the
        base model."""
        return self.peft if self.peft is not None else self.model

    def _prepare(self, requests: list[ChatRequest]) -> Any:
        for r in requests:
            if r.adapter is not None and r.adapter not in self._resident:
                raise SkillError(f"adapter '{r.adapter}' is not attached; call ensure_adapter first")
        if len({r.sampling_key for r in requests}) > 1:
            raise ValueError("one generate() call needs one sampling key; batching.py groups requests")
        for r in requests:
            if r.adapter is not None:
                self._resident.move_to_end(r.adapter)
        self.mixed_batches += len({r.adapter for r in requests}) > 1
        return self.forward_model

    def generate(self, requests: list[ChatRequest]) -> list[Completion]:
        """One forward-batched generate() for requests sharing a sampling key (any mix of adapters)."""
        import torch

        with self.lock, torch.inference_mode():
            model = self._prepare(requests)
            inputs = self.encode(requests)
            output = model.generate(**inputs, **self._generate_kwargs(requests))
        prompt_len = inputs["input_ids"].shape[1]
        return [self.completion(output[row, prompt_len:].tolist(), request, int(inputs["attention_mask"][row].sum()))
                for row, request in enumerate(requests)]

    def completion(self, ids: list[int], request: ChatRequest, prompt_tokens: int) -> Completion:
        """One row's new token ids as a Completion: cut at EOS, max_tokens and the first stop string."""
        ended = self.tokenizer.eos_token_id in ids
        if ended:
            ids = ids[: ids.index(self.tokenizer.eos_token_id)]
        length_cut = len(ids) >= request.max_tokens
        ids = ids[: request.max_tokens]
        text, stopped = cut_at_stop(self.tokenizer.decode(ids, skip_special_tokens=True), request.stop)
        reason = "stop" if stopped or (ended and not length_cut) else "length"
        return Completion(text=text, finish_reason=reason, completion_tokens=len(ids), prompt_tokens=prompt_tokens)

    def stream(self, request: ChatRequest, *, folder: Path | None = None,
               trained_on: str = "") -> Iterator[str | Completion]:
        """Text deltas of one request as they are decoded, then its Completion (finish reason, token counts).
        Generation runs on a helper thread; closing this iterator (a client that went away) stops it at the
        next token, so it does not hold the engine."""
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600)
        watch = _StreamWatch()
        errors: list[BaseException] = []
        done: list[Completion] = []

        def run() -> None:
            import torch

            try:
                with self.lock, torch.inference_mode():
                    if request.adapter is not None:
                        self.ensure_adapter(request.adapter, folder, trained_on)
                    model = self._prepare([request])
                    inputs = self.encode([request])
                    output = model.generate(**inputs, **self._generate_kwargs([request]), streamer=streamer,
                                            stopping_criteria=StoppingCriteriaList([watch]))
                prompt_len = inputs["input_ids"].shape[1]
                done.append(self.completion(output[0, prompt_len:].tolist(), request, prompt_len))
            except BaseException as exc:  # surfaced to the consumer below
                errors.append(exc)
                streamer.end()

        worker = threading.Thread(target=run, name="skillstack-stream", daemon=True)
        worker.start()
        finished = False
        try:
            yield from stream_with_stop(streamer, request.stop)
            finished = True
        finally:
            if not finished:  # the consumer closed us early
                watch.cancelled.set()
                self.cancelled_requests += 1
            worker.join()
        if errors:
            raise errors[0]
        yield from done


def row_constraints(tokenizer: Any, request: ChatRequest) -> list[Any]:
    """Fresh single-row logits processors for request's JSON schema, labels and grounding (empty: unconstrained)."""
    processors: list[Any] = []
    if request.json_schema:
        processors.append(json_constraint(tokenizer, request.enforced_schema(), max_string=request.max_string))
    if request.labels:
        processors.append(label_constraint(tokenizer, request.labels))
    if request.grounding is not None:
        processors.append(grounding_processor(tokenizer, request.grounding))
    return processors


class _StreamWatch:
    """A stopping criterion that stops a stream's generation once its consumer has gone (cancelled is set)."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        return torch.full((input_ids.shape[0],), self.cancelled.is_set(), dtype=torch.bool, device=input_ids.device)


class _RowConstraints:
    """A logits processor applying each constrained row's own processors (JSON, labels, grounding; other rows untouched)."""

    def __init__(self, processors: dict[int, list[Any]]) -> None:
        self.processors = processors

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        for row, processors in self.processors.items():
            for processor in processors:
                scores[row: row + 1] = processor(input_ids[row: row + 1], scores[row: row + 1])
        return scores

"""Model zoo: PyTorch models built from published configs, with random or meta weights.

Nothing is downloaded.  `build` returns the module and example inputs for a phase; under
``torch.device("meta")`` neither allocates memory, so a 70B model costs nothing to trace.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cosim.errors import SpecError
from cosim.zoo import resnet, transformer
from cosim.zoo.transformer import DecoderConfig

ALIASES = {"gpt3_6_7b": "gpt3_7b"}


@dataclass(frozen=True)
class Built:
    """A model ready to trace and what the tracer should know about it."""

    module: nn.Module
    args: tuple
    family: str  # "cnn" | "decoder" | "custom"
    config: Any = None  # DecoderConfig / ResNetConfig


def names() -> list[str]:
    return sorted([*resnet.CONFIGS, *transformer.CONFIGS])


def family_of(name: str) -> str:
    name = ALIASES.get(name, name)
    if name in resnet.CONFIGS:
        return "cnn"
    if name in transformer.CONFIGS:
        return "decoder"
    raise SpecError(f"model: unknown model {name!r} (known: {', '.join(names())}; or 'file.py:factory')")


def decoder_config(name: str, overrides: dict[str, float] | None = None) -> DecoderConfig:
    """The config of zoo decoder `name`, with integer fields overridden (e.g. n_layers)."""
    cfg = transformer.CONFIGS[ALIASES.get(name, name)]
    return _override(cfg, overrides or {})


def _override(cfg: Any, overrides: dict[str, float]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    kw: dict[str, Any] = {}
    for k, v in overrides.items():
        if k not in fields or k in ("name", "source"):
            allowed = ", ".join(n for n in fields if n not in ("name", "source"))
            raise SpecError(f"overrides: unknown key {k!r} for {cfg.name} (allowed: {allowed})")
        cur = getattr(cfg, k)
        if isinstance(cur, bool) or not isinstance(cur, int | float):
            raise SpecError(f"overrides: {k!r} of {cfg.name} cannot be overridden (only numeric fields)")
        if isinstance(cur, int):
            if float(v) != int(v) or int(v) < 1:
                raise SpecError(f"overrides: {k} must be a positive integer, got {v!r}")
            v = int(v)
        kw[k] = v
    return dataclasses.replace(cfg, **kw) if kw else cfg


def build(
    name: str,
    *,
    phase: str,
    batch: int,
    seq_len: int = 0,
    kv_len: int = 0,
    image_size: int = 224,
    dtype: torch.dtype = torch.float16,
    overrides: dict[str, float] | None = None,
    device: str = "meta",
) -> Built:
    """Instantiate zoo model `name` with inputs for `phase` on `device` (default: meta)."""
    fam = family_of(name)
    name = ALIASES.get(name, name)
    with torch.device(device):
        if fam == "cnn":
            if phase != "none":
                raise SpecError(f"phase: a CNN ({name}) runs with phase 'none', got {phase!r}")
            cfg = _override(resnet.CONFIGS[name], overrides or {})
            m = resnet.ResNet(cfg).to(dtype).eval()
            x = torch.zeros(batch, 3, image_size, image_size, dtype=dtype)
            return Built(m, (x,), "cnn", cfg)
        cfg = decoder_config(name, overrides)
        if phase not in ("prefill", "decode"):
            raise SpecError(f"phase: {name} is an LLM: use 'prefill' (with seq_len) or 'decode' (with kv_len)")
        if cfg.positions == "learned":
            need = seq_len if phase == "prefill" else kv_len
            if need > cfg.max_positions:
                raise SpecError(
                    f"{'seq_len' if phase == 'prefill' else 'kv_len'}: {need} exceeds {name}'s "
                    f"{cfg.max_positions} learned positions"
                )
        m = transformer.Decoder(cfg).to(dtype).eval()
        args = transformer.example_inputs(cfg, phase, batch, seq_len, kv_len, dtype)
        return Built(m, args, "decoder", cfg)

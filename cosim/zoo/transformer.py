"""Decoder-only transformers (GPT-2/3, OPT, Llama-2/3, BitNet b1.58) built from configs.

One module covers the family because they differ only in a few switches (norm, MLP,
positions, bias, tied embeddings, GQA, ternary linear layers).  Written for tracing:

* Attention uses the grouped-query layout that decode kernels use, reading each K/V head once:
  Q is viewed as (B, kv_heads, group * q_len, head_dim) and multiplied with K^T of shape
  (B, kv_heads, head_dim, kv_len).  With group = 1 (multi-head attention) it is the usual layout.
* Decode takes a KV cache of ``kv_len`` slots per layer, writes the new token's K/V into slot
  ``kv_len - 1`` (index_copy, traced as a KV-cache write) and attends over all ``kv_len`` keys.
* Prefill attends causally over its own ``seq_len`` keys; the cache write is not modelled.
* BitNet b1.58's linear layers are one custom op, ``cosim::bitlinear`` (ternary weights packed
  four to a byte, activations quantized to INT8 per token by absmax, as in Ma et al. 2024,
  "The Era of 1-bit LLMs"), so the tracer sees a W1.58A8 GEMM rather than the unpacking code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class DecoderConfig:
    """Shape and switches of a decoder-only transformer; `source` cites the numbers."""

    name: str
    vocab: int
    d_model: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_ff: int
    norm: str = "rms"  # rms | layer
    mlp: str = "swiglu"  # swiglu | gelu | relu
    positions: str = "rope"  # rope | learned
    max_positions: int = 0  # learned positions only
    bias: bool = False
    tied_embeddings: bool = False
    ternary: bool = False  # BitNet b1.58 linear layers
    rope_theta: float = 10000.0
    source: str = ""

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def params(self) -> dict[str, int]:
        """Parameter counts by part: embedding, positions, blocks, final norm, lm_head."""
        d, f, hd = self.d_model, self.d_ff, self.head_dim
        kvd = self.n_kv_heads * hd
        attn = d * d * 2 + 2 * d * kvd + ((2 * d + 2 * kvd) if self.bias else 0)
        mlp = (3 * d * f if self.mlp == "swiglu" else 2 * d * f) + ((f + d) if self.bias else 0)
        if self.mlp == "swiglu" and self.bias:
            mlp += f
        norm_p = d * (2 if self.norm == "layer" else 1)
        return {
            "embedding": self.vocab * d,
            "positions": self.max_positions * d if self.positions == "learned" else 0,
            "blocks": self.n_layers * (attn + mlp + 2 * norm_p),
            "final_norm": norm_p,
            "lm_head": 0 if self.tied_embeddings else self.vocab * d,
        }


# --------------------------------------------------------------------------- BitNet linear


@torch.library.custom_op("cosim::bitlinear", mutates_args=())
def bitlinear(x: torch.Tensor, w_packed: torch.Tensor, w_scale: torch.Tensor, out_features: int) -> torch.Tensor:
    """y = (int8-quantized x) @ ternary(W)^T, rescaled; W packed as 2-bit codes {0,1,2} -> {-1,0,1}."""
    in_features = w_packed.shape[-1] * 4
    codes = torch.stack([(w_packed >> (2 * i)) & 3 for i in range(4)], dim=-1).reshape(out_features, in_features)
    w = codes.to(torch.float32) - 1.0
    xf = x.to(torch.float32)
    s = 127.0 / xf.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
    xq = (xf * s).round().clamp(-128, 127)
    return ((xq @ w.t()) / s * w_scale.to(torch.float32)).to(x.dtype)


@bitlinear.register_fake
def _bitlinear_fake(x: torch.Tensor, w_packed: torch.Tensor, w_scale: torch.Tensor, out_features: int) -> torch.Tensor:
    return x.new_empty((*x.shape[:-1], out_features))


class BitLinear(nn.Module):
    """Ternary linear layer (weights stored 2-bit packed), traced as one ``cosim::bitlinear`` op."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        if in_features % 4:
            raise ValueError(f"BitLinear needs in_features divisible by 4, got {in_features}")
        self.out_features = out_features
        self.register_buffer("w_packed", torch.randint(0, 256, (out_features, in_features // 4), dtype=torch.uint8))
        self.register_buffer("w_scale", torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return bitlinear(x, self.w_packed, self.w_scale, self.out_features)


# --------------------------------------------------------------------------- blocks


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def _norm(cfg: DecoderConfig) -> nn.Module:
    return RMSNorm(cfg.d_model) if cfg.norm == "rms" else nn.LayerNorm(cfg.d_model)


def _linear(cfg: DecoderConfig, i: int, o: int) -> nn.Module:
    return BitLinear(i, o) if cfg.ternary else nn.Linear(i, o, bias=cfg.bias)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        hd, kvd = cfg.head_dim, cfg.n_kv_heads * cfg.head_dim
        self.q_proj = _linear(cfg, cfg.d_model, cfg.d_model)
        self.k_proj = _linear(cfg, cfg.d_model, kvd)
        self.v_proj = _linear(cfg, cfg.d_model, kvd)
        self.o_proj = _linear(cfg, cfg.d_model, cfg.d_model)
        self.scale = 1.0 / math.sqrt(hd)

    def forward(
        self,
        x: torch.Tensor,
        rope: tuple[torch.Tensor, torch.Tensor] | None,
        k_cache: torch.Tensor | None,
        v_cache: torch.Tensor | None,
        cache_pos: torch.Tensor | None,
    ) -> torch.Tensor:
        cfg = self.cfg
        B, S, D = x.shape
        kvh, hd = cfg.n_kv_heads, cfg.head_dim
        group = cfg.n_heads // kvh
        q = self.q_proj(x).view(B, S, cfg.n_heads, hd)
        k = self.k_proj(x).view(B, S, kvh, hd)
        v = self.v_proj(x).view(B, S, kvh, hd)
        if rope is not None:
            cos, sin = rope  # (S, hd), broadcast over batch and heads
            cos, sin = cos[:, None, :], sin[:, None, :]
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
        # grouped layout: (B, kvh, group * S, hd)
        q = q.view(B, S, kvh, group, hd).permute(0, 2, 3, 1, 4).reshape(B, kvh, group * S, hd)
        k = k.transpose(1, 2)
        v = v.transpose(1, 2)
        if k_cache is not None:
            k = k_cache.index_copy(2, cache_pos, k)
            v = v_cache.index_copy(2, cache_pos, v)
        L = k.shape[2]
        scores = torch.matmul(q, k.transpose(-1, -2)) * self.scale
        if k_cache is None and S > 1:
            mask = torch.triu(torch.full((S, L), float("-inf"), dtype=x.dtype, device=x.device), diagonal=1)
            scores = (scores.view(B, kvh, group, S, L) + mask).view(B, kvh, group * S, L)
        p = F.softmax(scores, dim=-1)
        out = torch.matmul(p, v)  # (B, kvh, group * S, hd)
        out = out.view(B, kvh, group, S, hd).permute(0, 3, 1, 2, 4).reshape(B, S, D)
        return self.o_proj(out)


class MLP(nn.Module):
    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.kind = cfg.mlp
        if cfg.mlp == "swiglu":
            self.gate_proj = _linear(cfg, cfg.d_model, cfg.d_ff)
        self.up_proj = _linear(cfg, cfg.d_model, cfg.d_ff)
        self.down_proj = _linear(cfg, cfg.d_ff, cfg.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "swiglu":
            return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))
        act = F.gelu if self.kind == "gelu" else F.relu
        return self.down_proj(act(self.up_proj(x)))


class Block(nn.Module):
    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.attn_norm = _norm(cfg)
        self.attn = Attention(cfg)
        self.mlp_norm = _norm(cfg)
        self.mlp = MLP(cfg)

    def forward(self, x, rope, k_cache, v_cache, cache_pos):
        x = x + self.attn(self.attn_norm(x), rope, k_cache, v_cache, cache_pos)
        return x + self.mlp(self.mlp_norm(x))


class TiedHead(nn.Module):
    """The output projection sharing the token embedding's weights (GPT-2, OPT)."""

    def __init__(self, embedding: nn.Embedding) -> None:
        super().__init__()
        self.embedding = [embedding]  # a list, so the weight is not registered twice

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.embedding[0].weight)


class Decoder(nn.Module):
    """A decoder-only LM.  forward(ids, positions[, k_caches, v_caches, cache_pos]) -> logits."""

    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        valid = {"norm": ("rms", "layer"), "mlp": ("swiglu", "gelu", "relu"), "positions": ("rope", "learned")}
        for key, allowed in valid.items():
            if getattr(cfg, key) not in allowed:
                raise ValueError(f"{cfg.name}: {key} must be one of {allowed}, got {getattr(cfg, key)!r}")
        if cfg.n_heads % cfg.n_kv_heads or cfg.d_model % cfg.n_heads:
            raise ValueError(f"{cfg.name}: n_heads must divide d_model and be a multiple of n_kv_heads")
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab, cfg.d_model)
        if cfg.positions == "learned":
            self.embed_positions = nn.Embedding(cfg.max_positions, cfg.d_model)
        else:
            hd = cfg.head_dim
            inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
            self.register_buffer("inv_freq", inv, persistent=False)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = _norm(cfg)
        self.lm_head = (
            TiedHead(self.embed_tokens) if cfg.tied_embeddings else nn.Linear(cfg.d_model, cfg.vocab, bias=False)
        )

    def forward(self, ids, positions, k_caches=None, v_caches=None, cache_pos=None):
        x = self.embed_tokens(ids)
        rope = None
        if self.cfg.positions == "learned":
            x = x + self.embed_positions(positions)
        else:
            freqs = positions[:, None].to(torch.float32) * self.inv_freq[None, :]
            emb = torch.cat((freqs, freqs), dim=-1)
            rope = (emb.cos().to(x.dtype), emb.sin().to(x.dtype))
        for i, layer in enumerate(self.layers):
            kc = None if k_caches is None else k_caches[i]
            vc = None if v_caches is None else v_caches[i]
            x = layer(x, rope, kc, vc, cache_pos)
        return self.lm_head(self.norm(x))


def example_inputs(cfg: DecoderConfig, phase: str, batch: int, seq_len: int, kv_len: int, dtype: torch.dtype) -> tuple:
    """Inputs for one prefill pass of `seq_len` tokens or one decode step over `kv_len` keys."""
    if phase == "prefill":
        return (torch.zeros(batch, seq_len, dtype=torch.long), torch.arange(seq_len))
    shape = (batch, cfg.n_kv_heads, kv_len, cfg.head_dim)
    kc = [torch.zeros(shape, dtype=dtype) for _ in range(cfg.n_layers)]
    vc = [torch.zeros(shape, dtype=dtype) for _ in range(cfg.n_layers)]
    pos = torch.tensor([kv_len - 1])
    return (torch.zeros(batch, 1, dtype=torch.long), pos, kc, vc, pos)


_GPT2 = "Radford et al. 2019 (GPT-2), HF config gpt2*"
_OPT = "Zhang et al. 2022 (OPT), Table 1; HF config facebook/opt-*"
_L2 = "Touvron et al. 2023 (Llama 2), Table 1; HF config meta-llama/Llama-2-*-hf"
_L3 = "Meta Llama 3 model card; HF config meta-llama/Meta-Llama-3-*"
_GPT3 = "Brown et al. 2020 (GPT-3), Table 2.1; 30B as in the NeuPIMs artifact (configs/model_configs)"
_BITNET = "Ma et al. 2024 (BitNet b1.58), Table 1; HF config 1bitLLM/bitnet_b1_58-*"


def _gpt(name: str, d: int, L: int, H: int, src: str, vocab: int = 50257, ctx: int = 1024) -> DecoderConfig:
    return DecoderConfig(
        name,
        vocab,
        d,
        L,
        H,
        H,
        4 * d,
        norm="layer",
        mlp="gelu",
        positions="learned",
        max_positions=ctx,
        bias=True,
        tied_embeddings=True,
        source=src,
    )


def _opt(name: str, d: int, L: int, H: int) -> DecoderConfig:
    return DecoderConfig(
        name,
        50272,
        d,
        L,
        H,
        H,
        4 * d,
        norm="layer",
        mlp="relu",
        positions="learned",
        max_positions=2048,
        bias=True,
        tied_embeddings=True,
        source=_OPT,
    )


def _llama(
    name: str, vocab: int, d: int, L: int, H: int, kvh: int, f: int, src: str, theta: float = 1e4, ternary: bool = False
) -> DecoderConfig:
    return DecoderConfig(name, vocab, d, L, H, kvh, f, rope_theta=theta, ternary=ternary, source=src)


CONFIGS: dict[str, DecoderConfig] = {
    c.name: c
    for c in (
        _gpt("gpt2", 768, 12, 12, _GPT2),
        _gpt("gpt2_medium", 1024, 24, 16, _GPT2),
        _gpt("gpt2_large", 1280, 36, 20, _GPT2),
        _gpt("gpt2_xl", 1600, 48, 25, _GPT2),
        _opt("opt_125m", 768, 12, 12),
        _opt("opt_1_3b", 2048, 24, 32),
        _opt("opt_6_7b", 4096, 32, 32),
        _opt("opt_13b", 5120, 40, 40),
        _opt("opt_30b", 7168, 48, 56),
        _llama("llama2_7b", 32000, 4096, 32, 32, 32, 11008, _L2),
        _llama("llama2_13b", 32000, 5120, 40, 40, 40, 13824, _L2),
        _llama("llama2_70b", 32000, 8192, 80, 64, 8, 28672, _L2),
        _llama("llama3_8b", 128256, 4096, 32, 32, 8, 14336, _L3, theta=5e5),
        _llama("llama3_70b", 128256, 8192, 80, 64, 8, 28672, _L3, theta=5e5),
        _gpt("gpt3_7b", 4096, 32, 32, _GPT3, ctx=2048),
        _gpt("gpt3_13b", 5120, 40, 40, _GPT3, ctx=2048),
        _gpt("gpt3_30b", 7168, 48, 56, _GPT3, ctx=2048),
        _gpt("gpt3_175b", 12288, 96, 96, _GPT3, ctx=2048),
        _llama("bitnet_b158_700m", 32002, 1536, 24, 24, 24, 4096, _BITNET, ternary=True),
        _llama("bitnet_b158_1_3b", 32002, 2048, 24, 32, 32, 5460, _BITNET, ternary=True),
        _llama("bitnet_b158_3b", 32002, 3200, 26, 32, 32, 8640, _BITNET, ternary=True),
    )
}

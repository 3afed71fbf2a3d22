"""Trace PyTorch models into workload graphs with ``torch.export``.

``torch.export`` (not ``torch.fx`` symbolic tracing, which fails on transformers 5 models)
records the ATen ops a forward pass runs, with shapes and dtypes, and the ``nn.Module`` each
op ran in.  Models are built on the meta device, so tracing Llama-2-70B allocates no weights.

Each ATen op is mapped to an `Op` kind by `ATEN_KINDS`:

* views, reshapes, constants and asserts are free (dependencies flow through them);
* ops computed only from constants (e.g. a causal mask) are folded away, as a compiler would;
* everything inside a module whose class name ends in ``Norm`` (RMSNorm, LayerNorm,
  BatchNorm2d, ...) becomes one ``norm`` op named after the module;
* a matmul feeding a softmax (through scale/mask ops) is ``attention_qk``; one fed by a
  softmax is ``attention_av``;
* anything else that is not in the table is reported, never dropped: tracing fails with the
  list of unsupported ops and where they ran.

Byte counts are compulsory traffic (see `cosim.graph`); biases are ignored (at most N values
per GEMM).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import math
import operator
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import fx

from cosim.errors import SpecError
from cosim.graph import (
    ATTENTION_KINDS,
    ConvShape,
    Op,
    OpKind,
    Phase,
    WorkloadGraph,
    attention_op,
    conv2d_op,
    default_dtype_for_bits,
    gemm_op,
    storage_bytes,
    vector_op,
    with_bits,
)
from cosim.workload import DTYPE_BITS, Quant, WorkloadSpec

# --------------------------------------------------------------------------- the op table

FREE = "free"  # no cost, dependencies pass through
GEMM = "gemm"
CONV = "conv"
SDPA = "sdpa"
INDEX_COPY = "index_copy"

_VIEWS = """view _unsafe_view reshape permute transpose t expand expand_as unsqueeze squeeze slice select narrow
split split_with_sizes chunk unbind flatten unflatten alias detach lift_fresh_copy _assert_tensor_metadata
_assert_scalar dropout feature_dropout arange zeros ones full empty zeros_like ones_like full_like empty_like
scalar_tensor sym_size sym_numel sym_stride sym_storage_offset _local_scalar_dense view_as movedim
repeat_interleave_self_int""".split()
_ELEMENTWISE = """add sub rsub mul div neg pow rsqrt sqrt exp exp2 log log2 log1p tanh sigmoid silu gelu relu relu6
hardtanh hardswish hardsigmoid leaky_relu elu selu mish softplus clamp clamp_min clamp_max abs sign round floor
ceil trunc where masked_fill to _to_copy type_as cos sin reciprocal minimum maximum eq ne lt gt le ge logical_and
logical_or logical_not bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift bitwise_right_shift
__lshift__ __rshift__ __and__ __or__ erf square fmod remainder lerp addcmul addcdiv triu tril isnan isinf nan_to_num
sub_ fill""".split()
_COPIES = (
    "cat stack clone contiguous copy index_put slice_scatter select_scatter scatter gather index_select index "
    "repeat roll flip pad constant_pad_nd".split()
)

ATEN_KINDS: dict[str, str | OpKind] = {
    **{f"aten::{n}": FREE for n in _VIEWS},
    **{f"aten::{n}": OpKind.ELEMENTWISE for n in _ELEMENTWISE},
    **{f"aten::{n}": OpKind.COPY for n in _COPIES},
    "aten::index_copy": INDEX_COPY,
    **{f"aten::{n}": GEMM for n in ("linear", "addmm", "mm", "matmul", "bmm", "baddbmm", "einsum_2d")},
    "cosim::bitlinear": GEMM,
    **{f"aten::{n}": CONV for n in ("conv2d", "convolution", "_convolution")},
    **{
        f"aten::{n}": SDPA
        for n in (
            "scaled_dot_product_attention",
            "_scaled_dot_product_flash_attention_for_cpu",
            "_scaled_dot_product_attention_math",
        )
    },
    **{f"aten::{n}": OpKind.SOFTMAX for n in ("softmax", "_softmax", "log_softmax", "_log_softmax")},
    **{
        f"aten::{n}": OpKind.NORM
        for n in (
            "layer_norm",
            "native_layer_norm",
            "rms_norm",
            "batch_norm",
            "_native_batch_norm_legit_no_training",
            "group_norm",
            "instance_norm",
        )
    },
    "aten::embedding": OpKind.EMBEDDING,
    **{
        f"aten::{n}": OpKind.POOL
        for n in ("max_pool2d", "max_pool2d_with_indices", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d")
    },
    **{
        f"aten::{n}": OpKind.REDUCE
        for n in (
            "mean",
            "sum",
            "amax",
            "amin",
            "max",
            "min",
            "argmax",
            "argmin",
            "var",
            "std",
            "var_mean",
            "norm",
            "linalg_vector_norm",
            "prod",
            "logsumexp",
            "cumsum",
            "topk",
            "sort",
        )
    },
}

_NORM_CLASS = re.compile(r"norm(\d*d)?$", re.IGNORECASE)


def op_key(target: Any) -> str | None:
    """``aten::linear``-style key of an FX call target, or None for Python-level targets."""
    if target is operator.getitem:
        return "getitem"
    name = getattr(target, "_schema", None)
    if name is not None:
        return target._schema.name
    return None


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class AttentionInfo:
    """Head geometry of a model's attention, so matmuls can be labelled with it."""

    heads: int
    kv_heads: int
    head_dim: int


def _val(node: Any) -> Any:
    return node.meta.get("val") if isinstance(node, fx.Node) else None


def _bits(t: Any) -> float:
    name = str(t.dtype).removeprefix("torch.")
    return float(DTYPE_BITS.get(name, t.dtype.itemsize * 8))


def _numel(t: Any) -> int:
    return int(math.prod(int(s) for s in t.shape))


def _tbytes(t: Any) -> int:
    return storage_bytes(_numel(t), _bits(t))


def _row_len(t: Any) -> int:
    """Length of the last axis: the row a softmax or layer/RMS norm reduces over."""
    return int(t.shape[-1]) if t.dim() else 1


def _dtype_name(t: Any) -> str:
    return str(t.dtype).removeprefix("torch.")


class _Tracer:
    """Walks an exported graph once, building ops and their dependencies."""

    def __init__(
        self,
        ep: torch.export.ExportedProgram,
        name: str,
        phase: Phase,
        attn: AttentionInfo | None,
        native_bits: Callable[[str], tuple[float, float] | None],
    ) -> None:
        self.ep = ep
        self.graph = WorkloadGraph(name=name)
        self.phase = phase
        self.attn = attn
        self.native_bits = native_bits
        sig = ep.graph_signature
        self.param_names = (
            set(sig.inputs_to_parameters)
            | set(sig.inputs_to_buffers)
            | set(getattr(sig, "inputs_to_lifted_tensor_constants", {}))
        )
        self.deps: dict[fx.Node, frozenset[str]] = {}
        self.live: dict[fx.Node, bool] = {}  # depends on a user input (not only on constants)
        self.unsupported: dict[tuple[str, str], int] = {}
        self.used_names: set[str] = set()
        self.group: dict[str, Any] | None = None  # the open norm-module group

    # ----- naming

    def _scope(self, node: fx.Node) -> tuple[str, str]:
        """(module path, qualified class name) of the innermost module the node ran in."""
        stack = node.meta.get("nn_module_stack") or {}
        if not stack:
            return "", ""
        path, cls = list(stack.values())[-1]
        cls_name = cls if isinstance(cls, str) else f"{cls.__module__}.{cls.__qualname__}"
        return path, cls_name

    def _norm_scope(self, node: fx.Node) -> str | None:
        for path, cls in (node.meta.get("nn_module_stack") or {}).values():
            cls_name = cls if isinstance(cls, str) else getattr(cls, "__name__", str(cls))
            if _NORM_CLASS.search(cls_name.rsplit(".", 1)[-1]):
                return path or "norm"
        return None

    def _name(self, node: fx.Node, label: str, principal: bool) -> str:
        """``<module path>`` for a module's principal op (a Linear's GEMM, a ReLU's relu), else
        ``<module path>.<label>``; a numeric suffix keeps names unique."""
        path, cls = self._scope(node)
        # ops of torch.nn's own leaf modules (ReLU, Linear, Conv2d, ...) are named after the module
        principal = principal or cls.startswith("torch.nn.modules.")
        base = path if (principal and path) else (f"{path}.{label}" if path else label)
        name, i = base, 1
        while name in self.used_names:
            name = f"{base}_{i}"
            i += 1
        self.used_names.add(name)
        return name

    # ----- walking

    def run(self) -> WorkloadGraph:
        for node in self.ep.graph.nodes:
            if node.op == "placeholder":
                self.deps[node] = frozenset()
                self.live[node] = node.name not in self.param_names
                continue
            if node.op != "call_function":
                continue
            norm_scope = self._norm_scope(node)
            if self.group is not None and self.group["scope"] != norm_scope:
                self._close_group()
            ins = node.all_input_nodes
            deps = frozenset().union(*(self.deps.get(a, frozenset()) for a in ins))
            live = any(self.live.get(a, False) for a in ins)
            self.live[node] = live
            key = op_key(node.target)
            if key == "getitem":
                self.deps[node] = deps
                continue
            kind = ATEN_KINDS.get(key) if key else None
            if kind is None:
                path, _ = self._scope(node)
                label = key or getattr(node.target, "__name__", str(node.target))
                k = (label, path or "<top>")
                self.unsupported[k] = self.unsupported.get(k, 0) + 1
                self.deps[node] = deps
                continue
            if kind == FREE or not live:
                self.deps[node] = deps
                continue
            if norm_scope is not None:
                self._add_to_group(norm_scope, node, deps)
                continue
            op = self._make_op(node, key, kind)
            self.graph.add_op(op, sorted(deps))
            self.deps[node] = frozenset({op.name})
        self._close_group()
        if self.unsupported:
            items = ", ".join(
                f"{op} in {where} (x{n})" if n > 1 else f"{op} in {where}"
                for (op, where), n in sorted(self.unsupported.items())
            )
            raise SpecError(
                f"model {self.graph.title!r}: {len(self.unsupported)} unsupported op(s), "
                f"not mapped to any op kind: {items}"
            )
        return self.graph

    # ----- norm groups

    def _add_to_group(self, scope: str, node: fx.Node, deps: frozenset[str]) -> None:
        if self.group is None:
            self.group = {"scope": scope, "nodes": [], "deps": set(), "first": node}
        self.group["nodes"].append(node)
        self.group["deps"] |= deps
        self.deps[node] = frozenset({f"\0group:{scope}"})

    def _close_group(self) -> None:
        g, self.group = self.group, None
        if g is None:
            return
        members = set(g["nodes"])
        placeholder = f"\0group:{g['scope']}"
        act_in = w_in = 0
        seen: set[fx.Node] = set()
        for n in g["nodes"]:
            for a in n.all_input_nodes:
                if a in members or a in seen or _val(a) is None or not hasattr(_val(a), "shape"):
                    continue
                seen.add(a)
                if a.op == "placeholder" and a.name in self.param_names:
                    w_in += _tbytes(_val(a))
                elif self.live.get(a, False):
                    act_in += _tbytes(_val(a))
        last = _val(g["nodes"][-1])
        if isinstance(last, tuple | list):
            last = last[0]
        out_b = _tbytes(last)
        name = self._name(g["first"], "norm", principal=True)
        op = vector_op(
            name,
            OpKind.NORM,
            elements=_numel(last),
            bytes_read=act_in + w_in,
            bytes_written=out_b,
            weight_bytes=w_in,
            act_bits=_bits(last),
            dtype=_dtype_name(last),
            phase=self.phase,
            M=_numel(last) // _row_len(last),
            N=_row_len(last),
        )
        deps = sorted(d for d in g["deps"] if not d.startswith("\0"))
        self.graph.add_op(op, deps)
        for n in g["nodes"]:
            self.deps[n] = frozenset({op.name})
        # nodes after the group that depended on the placeholder name are remapped lazily
        for n, d in list(self.deps.items()):
            if placeholder in d:
                self.deps[n] = (d - {placeholder}) | {op.name}

    # ----- op construction

    def _is_weight(self, node: Any) -> bool:
        while (
            isinstance(node, fx.Node)
            and node.op == "call_function"
            and ATEN_KINDS.get(op_key(node.target) or "") == FREE
            and node.all_input_nodes
        ):
            node = node.all_input_nodes[0]
        return isinstance(node, fx.Node) and node.op == "placeholder" and node.name in self.param_names

    def _source_bytes(self, node: Any) -> int:
        """Bytes actually read for an operand: an expanded view reads only its source."""
        v = _val(node)
        if v is None or not hasattr(v, "shape"):
            return 0
        n = node
        while (
            isinstance(n, fx.Node)
            and n.op == "call_function"
            and op_key(n.target) in ("aten::expand", "aten::expand_as")
        ):
            n = n.all_input_nodes[0]
        return _tbytes(_val(n))

    def _near(self, node: fx.Node, forward: bool, depth: int = 6) -> bool:
        """Is a softmax within `depth` free/elementwise hops after (forward) or before `node`?"""
        frontier = list(node.users) if forward else list(node.all_input_nodes)
        for _ in range(depth):
            nxt = []
            for n in frontier:
                if n.op != "call_function":
                    continue
                k = ATEN_KINDS.get(op_key(n.target) or "")
                if k is OpKind.SOFTMAX:
                    return True
                if k in (FREE, OpKind.ELEMENTWISE) or op_key(n.target) == "getitem":
                    nxt.extend(n.users if forward else n.all_input_nodes)
            frontier = nxt
        return False

    def _make_op(self, node: fx.Node, key: str, kind: str | OpKind) -> Op:
        out = _val(node)
        if isinstance(out, tuple | list):
            out = out[0]
        if kind == GEMM:
            return self._gemm(node, key)
        if kind == CONV:
            return self._conv(node)
        if kind == SDPA:
            return self._sdpa(node)
        label = key.split("::")[-1]
        if kind == INDEX_COPY:
            src = _val(node.args[3])
            b = _tbytes(src)
            return vector_op(
                self._name(node, "cache_write", False),
                OpKind.COPY,
                elements=_numel(src),
                bytes_read=b,
                bytes_written=b,
                act_bits=_bits(src),
                dtype=_dtype_name(src),
                phase=self.phase,
            )
        assert isinstance(kind, OpKind)
        principal = kind is OpKind.EMBEDDING
        name = self._name(node, label.lstrip("_"), principal)
        out_b = _tbytes(out)
        if kind is OpKind.EMBEDDING:
            ids = _val(node.args[1])
            return vector_op(
                name,
                kind,
                elements=_numel(out),
                bytes_read=out_b + _tbytes(ids),
                bytes_written=out_b,
                weight_bytes=out_b,
                act_bits=_bits(out),
                dtype=_dtype_name(out),
                phase=self.phase,
            )
        read = w = 0
        for a in dict.fromkeys(node.all_input_nodes):
            b = self._source_bytes(a)
            read += b
            if self._is_weight(a):
                w += b
        row_wise = kind in (OpKind.SOFTMAX, OpKind.NORM)  # rows x row length, for models of row parallelism
        return vector_op(
            name,
            kind,
            elements=_numel(out),
            bytes_read=read,
            bytes_written=out_b,
            weight_bytes=w,
            act_bits=_bits(out),
            dtype=_dtype_name(out),
            phase=self.phase,
            M=_numel(out) // _row_len(out) if row_wise else 0,
            N=_row_len(out) if row_wise else 0,
        )

    def _gemm(self, node: fx.Node, key: str) -> Op:
        args = node.args
        if key == "cosim::bitlinear":
            x, n_out = _val(args[0]), int(args[3])
            K = int(x.shape[-1])
            bits = self.native_bits("bitlinear") or (1.58, 8.0)
            return gemm_op(
                self._name(node, "bitlinear", True),
                _numel(x) // K,
                n_out,
                K,
                weight_bits=bits[0],
                act_bits=bits[1],
                dtype=default_dtype_for_bits(bits[1]),
                phase=self.phase,
            )
        if key == "aten::linear":
            x, w = _val(args[0]), _val(args[1])
            K, N = int(x.shape[-1]), int(w.shape[0])
            return gemm_op(
                self._name(node, "linear", True),
                _numel(x) // K,
                N,
                K,
                weight_bits=_bits(w),
                act_bits=_bits(x),
                dtype=_dtype_name(x),
                phase=self.phase,
            )
        if key in ("aten::addmm", "aten::baddbmm"):
            a_node, b_node = args[1], args[2]
        else:
            a_node, b_node = args[0], args[1]
        a, b = _val(a_node), _val(b_node)
        a_shape = list(a.shape) if a.dim() > 1 else [1, int(a.shape[0])]
        b_shape = list(b.shape) if b.dim() > 1 else [int(b.shape[0]), 1]
        M, K = int(a_shape[-2]), int(a_shape[-1])
        N = int(b_shape[-1])
        batch_dims = torch.broadcast_shapes(tuple(a_shape[:-2]), tuple(b_shape[:-2]))
        batch = int(math.prod(batch_dims)) if batch_dims else 1
        if self._is_weight(b_node) and len(b_shape) == 2:
            return gemm_op(
                self._name(node, "matmul", True),
                M * batch,
                N,
                K,
                weight_bits=_bits(b),
                act_bits=_bits(a),
                dtype=_dtype_name(a),
                phase=self.phase,
            )
        kind = (
            OpKind.ATTENTION_AV
            if self._near(node, forward=False)
            else OpKind.ATTENTION_QK
            if self._near(node, forward=True)
            else None
        )
        if kind is None:
            return gemm_op(
                self._name(node, "matmul", False),
                M,
                N,
                K,
                batch,
                act_bits=_bits(a),
                dtype=_dtype_name(a),
                phase=self.phase,
                b_is_weight=False,
            )
        label = "qk" if kind is OpKind.ATTENTION_QK else "av"
        info = self.attn
        if info is not None and batch % info.kv_heads == 0 and M % (info.heads // info.kv_heads) == 0:
            group = info.heads // info.kv_heads
            kv_len = N if kind is OpKind.ATTENTION_QK else K
            hd = K if kind is OpKind.ATTENTION_QK else N
            if hd == info.head_dim:
                kv_bits = _bits(b)
                return attention_op(
                    self._name(node, label, False),
                    kind,
                    batch=batch // info.kv_heads,
                    heads=info.heads,
                    kv_heads=info.kv_heads,
                    head_dim=hd,
                    q_len=M // group,
                    kv_len=kv_len,
                    act_bits=_bits(a),
                    kv_bits=kv_bits,
                    dtype=_dtype_name(a),
                    phase=self.phase,
                )
        g = gemm_op("", M, N, K, batch, act_bits=_bits(a), dtype=_dtype_name(a), phase=self.phase, b_is_weight=False)
        return replace(
            g,
            name=self._name(node, label, False),
            kind=kind,
            kv_bits=_bits(b),
            kv_bytes=storage_bytes(batch * K * N, _bits(b)),
        )

    def _conv(self, node: fx.Node) -> Op:
        a = node.args
        x, w = _val(a[0]), _val(a[1])
        if x.dim() != 4:
            raise SpecError(
                f"model {self.graph.title!r}: only 2-D convolutions are supported, got a "
                f"{x.dim() - 2}-D convolution in {self._scope(node)[0] or '<top>'}"
            )

        def pair(v: Any, default: int) -> tuple[int, int]:
            if v is None:
                return default, default
            if isinstance(v, int):
                return v, v
            v = list(v)
            return (int(v[0]), int(v[-1])) if v else (default, default)

        if op_key(node.target) == "aten::conv2d":
            stride, pad, dil, groups = (
                (a[3] if len(a) > 3 else 1),
                (a[4] if len(a) > 4 else 0),
                (a[5] if len(a) > 5 else 1),
                (a[6] if len(a) > 6 else 1),
            )
        else:  # convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)
            if a[6]:
                raise SpecError(f"model {self.graph.title!r}: transposed convolutions are not supported")
            stride, pad, dil, groups = a[3], a[4], a[5], a[8]
        if isinstance(pad, str):
            raise SpecError(
                f"model {self.graph.title!r}: padding={pad!r} convolutions are not supported; give explicit padding"
            )
        (sh, sw), (ph, pw), (dh, dw) = pair(stride, 1), pair(pad, 0), pair(dil, 1)
        shape = ConvShape(
            images=int(x.shape[0]),
            in_h=int(x.shape[2]),
            in_w=int(x.shape[3]),
            in_channels=int(x.shape[1]),
            out_channels=int(w.shape[0]),
            kernel_h=int(w.shape[2]),
            kernel_w=int(w.shape[3]),
            stride_h=sh,
            stride_w=sw,
            pad_h=ph,
            pad_w=pw,
            dilation_h=dh,
            dilation_w=dw,
            groups=int(groups),
        )
        return conv2d_op(
            self._name(node, "conv", True),
            shape,
            weight_bits=_bits(w),
            act_bits=_bits(x),
            dtype=_dtype_name(x),
            phase=self.phase,
        )

    def _sdpa(self, node: fx.Node) -> Op:
        q, k = _val(node.args[0]), _val(node.args[1])
        B, H, S, hd = (int(s) for s in q.shape)
        kvh, L = int(k.shape[1]), int(k.shape[2])
        kind = OpKind.ATTENTION_DECODE if S == 1 else OpKind.ATTENTION_PREFILL
        return attention_op(
            self._name(node, "attention", False),
            kind,
            batch=B,
            heads=H,
            kv_heads=kvh,
            head_dim=hd,
            q_len=S,
            kv_len=L,
            act_bits=_bits(q),
            kv_bits=_bits(k),
            dtype=_dtype_name(q),
            phase=self.phase,
        )


# --------------------------------------------------------------------------- public API


def trace_module(
    module: torch.nn.Module,
    args: tuple,
    *,
    name: str,
    phase: Phase = Phase.NONE,
    attention: AttentionInfo | None = None,
    native_bits: Callable[[str], tuple[float, float] | None] | None = None,
) -> WorkloadGraph:
    """Export `module(*args)` and map its ATen graph to a `WorkloadGraph`.

    Raises:
        SpecError: the model cannot be exported, or uses ops cosim cannot map (all listed).
    """
    try:
        ep = torch.export.export(module, args, strict=False)
    except Exception as e:  # torch raises many types; the user sees one line
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SpecError(f"model {name!r} could not be exported with torch.export: {first}") from None
    return _Tracer(ep, name, phase, attention, native_bits or (lambda _k: None)).run()


def apply_quant(
    graph: WorkloadGraph, quant: Quant, skip: Iterable[str] = ("lm_head",), act_dtype: str = "float16"
) -> None:
    """Re-quantize ops in place: weights of GEMM/conv ops (except names containing `skip`),
    activations of every op, and the KV cache of attention ops."""
    dtype = act_dtype if quant.act_bits >= 16 else default_dtype_for_bits(quant.act_bits)
    skip = tuple(skip)
    for op in graph.ops:
        wb = None if any(s in op.name for s in skip) else quant.weight_bits
        kvb = quant.kv_bits if quant.kv_bits is not None else (quant.act_bits if op.kind in ATTENTION_KINDS else None)
        graph.replace_op(with_bits(op, weight_bits=wb, act_bits=quant.act_bits, kv_bits=kvb, dtype=dtype))


_LAYER = re.compile(r"^layers\.(\d+)\.")


def replicate_layers(g2: WorkloadGraph, n_layers: int) -> WorkloadGraph:
    """Expand the trace of a 2-layer decoder into the trace of an `n_layers` one.

    Zoo decoders repeat one block, so ops of layers 1..n-1 are copies of layer 1 (renamed
    ``layers.<i>.``), edges layer 0 -> layer 1 become layer i-1 -> layer i, edges from the ops
    before the layers (embedding, rotary tables) to layer 1 go to every layer i >= 1, and edges
    from layer 1 to the ops after the layers (final norm, lm_head) leave the last layer.  Tracing
    the full model gives the same graph (tests check it); this just avoids exporting 80 blocks.
    """
    if n_layers < 2:
        raise ValueError("replicate_layers needs n_layers >= 2")

    def part(name: str) -> tuple[str, int]:
        m = _LAYER.match(name)
        if m:
            return "L", int(m.group(1))
        return ("P", -1) if not seen_layer else ("S", -1)

    parts: dict[str, tuple[str, int]] = {}
    seen_layer = False
    for op in g2.ops:
        p = part(op.name)
        if p[0] == "L":
            seen_layer = True
        parts[op.name] = p

    def rename(name: str, i: int) -> str:
        return _LAYER.sub(f"layers.{i}.", name, count=1)

    def copies(name: str) -> list[str]:
        kind, layer = parts[name]
        if kind != "L":
            return [name]
        return [name] if layer == 0 else [rename(name, i) for i in range(1, n_layers)]

    g = WorkloadGraph(name=g2.title, meta=dict(g2.meta))
    layer1 = [op for op in g2.ops if parts[op.name] == ("L", 1)]
    for op in g2.ops:
        kind, layer = parts[op.name]
        if kind == "L" and layer == 1:
            continue
        if kind == "S" and layer1:  # all copies of layer 1 go before the suffix
            for i in range(1, n_layers):
                for t in layer1:
                    g.add_op(replace(t, name=rename(t.name, i)))
            layer1 = []
        g.add_op(op)
    for i in range(1, n_layers):  # no suffix at all: layers are last
        for t in layer1:
            g.add_op(replace(t, name=rename(t.name, i)))
    for u, v in g2.edges:
        (ku, lu), (kv, lv) = parts[u], parts[v]
        if ku == "L" and kv == "L" and lu == 0 and lv == 1:
            pairs = [(rename(u, i - 1), rename(v, i)) for i in range(1, n_layers)]
        elif ku == "L" and lu == 1 and kv == "S":
            pairs = [(rename(u, n_layers - 1), v)]
        elif ku == "L" and lu == 0 and kv == "S":
            raise SpecError(f"{g2.title}: layer 0 feeds {v!r} directly; layers are not a plain stack")
        elif ku == "L" and kv == "L":
            pairs = [(a, b) for a, b in zip(copies(u), copies(v), strict=True)]
        else:
            pairs = [(a, b) for a in copies(u) for b in copies(v)]
        g.add_edges_from(pairs)
    return g


def _load_factory(ref: str, base_dir: Path) -> Callable[..., Any]:
    file, _, func = ref.rpartition(":")
    path = Path(file)
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise SpecError(f"model: {path}: no such file")
    mod_name = f"cosim_user_model_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise SpecError(f"model: {path}: cannot be imported as a Python module")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception as e:
        raise SpecError(f"model: {path}: importing it failed: {type(e).__name__}: {e}") from None
    fn = getattr(mod, func, None)
    if not callable(fn):
        raise SpecError(f"model: {path} has no function {func!r}")
    return fn


def trace_workload(spec: WorkloadSpec, base_dir: str | Path = ".", replicate: bool = True) -> WorkloadGraph:
    """Build the model a `WorkloadSpec` names (on the meta device), trace it, apply its quantization.

    A user model is given as ``model: path/to/file.py:factory`` (relative to `base_dir`, the
    spec's folder); ``factory(spec)`` is called under ``torch.device("meta")`` and returns
    ``(module, args)``.  `replicate` exports two blocks of a zoo decoder and replicates them
    (`replicate_layers`); False exports every block.
    """
    from cosim import zoo

    quant = spec.quantization(f"{spec.name}: quant")
    dtype = getattr(torch, spec.dtype)
    meta: dict[str, Any] = {"model": spec.model, "phase": spec.phase.value, "batch": spec.batch}
    if spec.phase is Phase.PREFILL:
        meta["seq_len"] = spec.seq_len
    if spec.phase is Phase.DECODE:
        meta["kv_len"] = spec.kv_len
    attn = None
    native = None
    n_layers_full = 0
    if ".py:" in spec.model:
        fn = _load_factory(spec.model, Path(base_dir))
        with torch.device("meta"):
            try:
                built = fn(spec)
            except SpecError:
                raise
            except Exception as e:
                raise SpecError(f"model: {spec.model}: the factory failed: {type(e).__name__}: {e}") from None
        if not (isinstance(built, tuple) and len(built) == 2 and isinstance(built[0], torch.nn.Module)):
            raise SpecError(f"model: {spec.model}: the factory must return (module, args)")
        module, args = built
        args = tuple(args) if isinstance(args, list | tuple) else (args,)
        meta["family"] = "custom"
    else:
        if spec.phase is Phase.NONE and zoo.family_of(spec.model) == "cnn":
            meta["image_size"] = spec.image_size
        overrides = dict(spec.overrides)
        if zoo.family_of(spec.model) == "decoder" and replicate:
            # Export two identical blocks and replicate them (see replicate_layers): same graph, far faster.
            n = zoo.decoder_config(spec.model, overrides).n_layers
            if n > 2:
                n_layers_full, overrides["n_layers"] = n, 2
        b = zoo.build(
            spec.model,
            phase=spec.phase.value,
            batch=spec.batch,
            seq_len=spec.seq_len,
            kv_len=spec.kv_len,
            image_size=spec.image_size,
            dtype=dtype,
            overrides=overrides,
        )
        module, args = b.module, b.args
        meta["family"] = b.family
        if b.family == "decoder":
            cfg = b.config
            attn = AttentionInfo(cfg.n_heads, cfg.n_kv_heads, cfg.head_dim)
            meta["config"] = {
                k: getattr(cfg, k) for k in ("vocab", "d_model", "n_layers", "n_heads", "n_kv_heads", "d_ff", "ternary")
            }
            meta["params"] = (
                b.config.params() if not n_layers_full else dataclasses.replace(cfg, n_layers=n_layers_full).params()
            )
            if n_layers_full:
                meta["config"]["n_layers"] = n_layers_full
            if cfg.ternary:
                native = {"bitlinear": (1.58, 8.0)}.get
    if spec.overrides:
        meta["overrides"] = dict(spec.overrides)
    with _quiet():
        g = trace_module(module, args, name=spec.name, phase=spec.phase, attention=attn, native_bits=native)
    if n_layers_full:
        g = replicate_layers(g, n_layers_full)
    g.meta.update(meta)
    if quant is not None:
        apply_quant(g, quant, act_dtype=spec.dtype)
        g.meta["quant"] = quant.label
    return g


def trace(
    model: str,
    *,
    phase: str = "none",
    batch: int = 1,
    seq_len: int = 0,
    kv_len: int = 0,
    quant: str | None = None,
    overrides: dict[str, float] | None = None,
    image_size: int = 224,
    dtype: str = "float16",
    name: str | None = None,
) -> WorkloadGraph:
    """Convenience: trace a zoo model without writing a spec file.

    Example: ``trace("llama2_7b", phase="decode", batch=8, kv_len=4096, quant="W4A16")``.
    """
    from cosim.spec import parse

    data: dict[str, Any] = {
        "name": name or f"{model}_{phase}",
        "model": model,
        "phase": phase,
        "batch": batch,
        "seq_len": seq_len,
        "kv_len": kv_len,
        "image_size": image_size,
        "dtype": dtype,
        "quant": quant or "",
        "overrides": dict(overrides or {}),
    }
    return trace_workload(parse(WorkloadSpec, data, f"trace({model!r})"))


@contextlib.contextmanager
def _quiet() -> Any:
    """torch.export logs warnings for things that are fine here (e.g. meta tensors)."""
    import logging
    import warnings

    loggers = [logging.getLogger(n) for n in ("torch._export", "torch.export", "torch._dynamo")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, lv in zip(loggers, levels, strict=True):
            lg.setLevel(lv)

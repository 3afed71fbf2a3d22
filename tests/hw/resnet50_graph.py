"""ResNet-50 (torchvision layout, 224x224) built from cosim.graph builders, for tests and
benchmarks that must not depend on the tracer: 53 convs, the FC layer, and the vector ops
(ReLU after each conv, one residual add per block, two pools)."""

from __future__ import annotations

from cosim.graph import ConvShape, OpKind, WorkloadGraph, conv2d_op, gemm_op, storage_bytes, vector_op


def resnet50_graph(images: int = 1, act_bits: int = 8) -> WorkloadGraph:
    g = WorkloadGraph(name="resnet50_builders")
    prev: list[str] = []
    n = 0

    def add(op):
        nonlocal prev
        g.add_op(op, prev)
        prev = [op.name]

    def conv(name: str, h: int, c_in: int, c_out: int, k: int, s: int, p: int) -> int:
        nonlocal n
        cs = ConvShape(images, h, h, c_in, c_out, k, k, s, s, p, p)
        add(conv2d_op(name, cs, weight_bits=act_bits, act_bits=act_bits))
        elems = images * cs.out_h * cs.out_w * c_out
        b = storage_bytes(elems, act_bits)
        add(vector_op(name + ".relu", OpKind.ELEMENTWISE, elements=elems, bytes_read=b, bytes_written=b))
        n += 1
        return cs.out_h

    h = conv("conv1", 224, 3, 64, 7, 2, 3)
    e = images * 56 * 56 * 64
    add(vector_op("maxpool", OpKind.POOL, elements=e, bytes_read=4 * e, bytes_written=e))
    h = 56
    c_in = 64
    for stage, (width, blocks, stride) in enumerate(((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)), start=1):
        for b in range(blocks):
            s = stride if b == 0 else 1
            pre = f"layer{stage}.{b}"
            conv(pre + ".conv1", h, c_in, width, 1, 1, 0)
            h2 = conv(pre + ".conv2", h, width, width, 3, s, 1)
            conv(pre + ".conv3", h2, width, 4 * width, 1, 1, 0)
            if b == 0:
                conv(pre + ".downsample", h, c_in, 4 * width, 1, s, 0)
            elems = images * h2 * h2 * 4 * width
            bb = storage_bytes(elems, act_bits)
            add(vector_op(pre + ".add", OpKind.ELEMENTWISE, elements=elems, bytes_read=2 * bb, bytes_written=bb))
            h, c_in = h2, 4 * width
    e = images * 7 * 7 * 2048
    add(vector_op("avgpool", OpKind.POOL, elements=e, bytes_read=e, bytes_written=images * 2048))
    add(gemm_op("fc", images, 1000, 2048, weight_bits=act_bits, act_bits=act_bits))
    return g

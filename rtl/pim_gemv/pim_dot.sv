// Lane-wise multiply and pipelined adder tree of the in-bank PIM GEMV unit.
//
// LANES products of the column burst `a` and the vector entry `b`, reduced pairwise
// (lane 2i + lane 2i+1 at level 1, and so on) to one sum.  REGS pipeline registers: the first one
// after the multipliers, the next min(REGS-1, log2 LANES) spread evenly over the tree levels, any
// further ones on the final sum.  So `sum` is the reduction of the inputs REGS cycles earlier.
//
// Integer mode (FP16 = 0): signed W-bit operands, exact 2W-bit products, each tree level one bit
// wider, so `sum` (2W + log2 LANES bits) is exact.  FP16 mode: IEEE binary16 operands, products
// and pairwise sums each rounded to FP16 (fp16_mul / fp16_add from rtl/lut_tc: RNE, DAZ/FTZ),
// which cosim.golden.pim_gemv_fp16 reproduces operation by operation.
module pim_dot #(
    parameter integer LANES = 16,  // multipliers (a power of two)
    parameter integer W     = 16,  // operand width (16 in FP16 mode)
    parameter integer FP16  = 0,   // 1: binary16 datapath
    parameter integer REGS  = 1    // pipeline registers from inputs to `sum`
) (
    input  wire                   clk,
    input  wire [LANES*W-1:0]     a,    // lane i at [i*W +: W]: column burst from the row buffer
    input  wire [LANES*W-1:0]     b,    // lane i at [i*W +: W]: vector-buffer entry
    output wire [(FP16 ? 16 : 2*W + $clog2(LANES))-1:0] sum  // FP16, or 2W + log2(LANES) bits
);
    localparam integer LEVELS = $clog2(LANES);
    localparam integer SUM_W  = FP16 ? 16 : 2 * W + LEVELS;
    localparam integer RT     = REGS < 1 ? 0 : (REGS - 1 < LEVELS ? REGS - 1 : LEVELS);  // tree registers
    localparam integer RX     = REGS - 1 - LEVELS > 0 ? REGS - 1 - LEVELS : 0;             // output registers

    // width of one value at tree level l (level 0 = products)
    function integer wl(input integer l);
        wl = FP16 ? 16 : 2 * W + l;
    endfunction
    // bit offset of level l in the flat buses
    function integer off(input integer l);
        integer k;
        begin
            off = 0;
            for (k = 0; k < l; k = k + 1) off = off + (LANES >> k) * wl(k);
        end
    endfunction
    // registers placed up to and including tree level j (1..LEVELS), spread evenly
    function integer placed(input integer j);
        placed = LEVELS == 0 ? 0 : (2 * j * RT + LEVELS) / (2 * LEVELS);
    endfunction
    // is there a register after level l?
    function integer reg_at(input integer l);
        reg_at = (l == 0) ? (REGS >= 1) : (placed(l) > placed(l - 1));
    endfunction

    localparam integer TOT = off(LEVELS + 1);
    wire [TOT-1:0] lc;  // each level's values, before its optional register
    wire [TOT-1:0] lq;  // after it

    genvar l, i;
    generate
        for (l = 0; l <= LEVELS; l = l + 1) begin : g_lvl
            for (i = 0; i < (LANES >> l); i = i + 1) begin : g_node
                if (l == 0) begin : g_mul
                    if (FP16) begin : g_fp
                        fp16_mul u_mul (.a(a[i*16 +: 16]), .b(b[i*16 +: 16]), .y(lc[off(0) + i*16 +: 16]));
                    end else begin : g_int
                        assign lc[off(0) + i*wl(0) +: wl(0)] = $signed(a[i*W +: W]) * $signed(b[i*W +: W]);
                    end
                end else begin : g_add
                    if (FP16) begin : g_fp
                        fp16_add u_add (
                            .a(lq[off(l-1) + (2*i)*16 +: 16]),
                            .b(lq[off(l-1) + (2*i+1)*16 +: 16]),
                            .y(lc[off(l) + i*16 +: 16])
                        );
                    end else begin : g_int
                        assign lc[off(l) + i*wl(l) +: wl(l)] =
                            $signed(lq[off(l-1) + (2*i)*wl(l-1) +: wl(l-1)])
                            + $signed(lq[off(l-1) + (2*i+1)*wl(l-1) +: wl(l-1)]);
                    end
                end
            end
            if (reg_at(l)) begin : g_reg
                reg [(LANES >> l)*wl(l)-1:0] r;
                always @(posedge clk) r <= lc[off(l) +: (LANES >> l)*wl(l)];
                assign lq[off(l) +: (LANES >> l)*wl(l)] = r;
            end else begin : g_wire
                assign lq[off(l) +: (LANES >> l)*wl(l)] = lc[off(l) +: (LANES >> l)*wl(l)];
            end
        end
        // registers beyond one per level sit on the final sum
        if (RX > 0) begin : g_out
            reg [SUM_W-1:0] d [0:RX-1];
            integer k;
            always @(posedge clk) begin
                d[0] <= lq[off(LEVELS) +: SUM_W];
                for (k = 1; k < RX; k = k + 1) d[k] <= d[k-1];
            end
            assign sum = d[RX-1];
        end else begin : g_noout
            assign sum = lq[off(LEVELS) +: SUM_W];
        end
    endgenerate
endmodule

// opt2_tree: OPT2 multiplier-adder tree of the HPCA'25 TPE paper: reduction under the same bit-weight.
//
// C_n = sum_k a_k b_{k,n} = sum_i 4^i * sum_k (d_{k,i} * b_{k,n}), with d_{k,i} the radix-4 digits of
// a_k.  Partial products of equal bit-weight i are summed across the KP lanes first, in narrow trees
// of RED_W = W + 2 + ceil(log2 KP) bits (cosim.golden.same_weight_reduction_width), and shifted only
// once per bit-weight afterwards.  Each activation is encoded once and its digits are shared by all
// NCOL columns.  The paper's public RTL uses 13-bit same-weight trees for W = 8, KP = 16, which
// overflow when every a_k = -2 and every b = -128 (16 * 256 = 4096 needs 14 bits); RED_W is derived
// here and the bench checks exactly that corner.
//
// Same interface and timing as dot_tree.
module opt2_tree #(
    parameter integer W      = 8,    // operand width (two's complement)
    parameter integer KP     = 16,   // spatial reduction length (lanes per column)
    parameter integer NCOL   = 4,    // columns (outputs) sharing the encoded activation vector
    parameter integer KT_MAX = 16,   // most cycles one dot product may accumulate over
    parameter integer ENC    = 1,    // radix-4 encoding of the activations: 1 EN-T (paper), 0 modified Booth
    parameter integer RED_W  = W + 2 + $clog2(KP),      // same-bit-weight tree width, derived
    parameter integer ACC_W  = 2*W + $clog2(KP*KT_MAX)  // accumulator width, derived
) (
    input  wire                   clk,
    input  wire                   rst,        // synchronous, active high
    input  wire                   in_valid,
    input  wire                   first,
    input  wire                   last,
    input  wire [KP*W-1:0]        a_vec,      // lane k in bits [k*W +: W]
    input  wire [NCOL*KP*W-1:0]   b_mat,      // column n, lane k in bits [(n*KP + k)*W +: W]
    output reg                    out_valid,
    output wire [NCOL*ACC_W-1:0]  result      // column n in bits [n*ACC_W +: ACC_W]
);
    localparam integer ND = (W + 1) / 2;   // bit-weights (radix-4 digits per activation)

    // One encoder per lane, shared by every column.
    wire [KP*3*ND-1:0] dig;
    genvar n, k, i;
    generate
        for (k = 0; k < KP; k = k + 1) begin : g_enc
            r4_digits #(.W(W), .ENC(ENC)) u_enc (.a(a_vec[k*W +: W]), .dig(dig[k*3*ND +: 3*ND]));
        end
    endgenerate

    generate
        for (n = 0; n < NCOL; n = n + 1) begin : g_col
            // Partial products d_{k,i} * b_{k,n}, grouped by bit-weight i.
            wire [ND*KP*RED_W-1:0] rows;
            for (k = 0; k < KP; k = k + 1) begin : g_lane
                wire [W-1:0] bk = b_mat[(n*KP + k)*W +: W];
                wire [W:0]   nb = ~{bk[W-1], bk} + 1'b1;
                for (i = 0; i < ND; i = i + 1) begin : g_bw
                    wire [W+1:0] pp;
                    r4_pp #(.W(W)) u_pp (.dig(dig[(k*ND + i)*3 +: 3]), .b(bk), .nb(nb), .pp(pp));
                    wire signed [RED_W-1:0] ext = $signed(pp);
                    assign rows[(i*KP + k)*RED_W +: RED_W] = ext;
                end
            end
            // Narrow same-bit-weight reductions: carry-save tree, then one narrow add per bit-weight.
            wire [ND*ACC_W-1:0] bw_sum;
            for (i = 0; i < ND; i = i + 1) begin : g_red
                wire [RED_W-1:0] s, c;
                csa_tree #(.N(KP), .WIDTH(RED_W)) u_tree (
                    .in_flat(rows[i*KP*RED_W +: KP*RED_W]), .sum(s), .carry(c));
                wire signed [RED_W-1:0] full = s + c;
                wire signed [ACC_W-1:0] full_ext = full;
                assign bw_sum[i*ACC_W +: ACC_W] = full_ext << (2*i);   // the one shift per bit-weight
            end
            reg [ACC_W-1:0] acc;
            reg [ACC_W-1:0] total;
            integer t;
            always @(*) begin
                total = first ? {ACC_W{1'b0}} : acc;
                for (t = 0; t < ND; t = t + 1) total = total + bw_sum[t*ACC_W +: ACC_W];
            end
            always @(posedge clk) if (in_valid) acc <= total;
            assign result[n*ACC_W +: ACC_W] = acc;
        end
    endgenerate

    always @(posedge clk) out_valid <= rst ? 1'b0 : (in_valid & last);
endmodule

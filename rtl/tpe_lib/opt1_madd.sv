// opt1_madd: carry-save multiply-add, the combinational core of the OPT1 PE (HPCA'25 TPE paper).
//
// (y_s, y_c) is a carry-save pair with y_s + y_c == x_s + x_c + a*b (mod 2^OUT_W).  The product is
// never resolved: its ceil(W/2) radix-4 modified-Booth partial products are compressed together with
// the incoming carry-save pair by a 3:2 tree (csa_tree), so no carry-propagate adder sits on the
// accumulation loop; the caller does one final add per output.  OUT_W must hold the true result
// (cosim.golden.acc_width); partial products are sign-extended to OUT_W.
module opt1_madd #(
    parameter integer W     = 8,    // operand width (two's complement)
    parameter integer OUT_W = 24    // carry-save width (accumulator width)
) (
    input  wire [W-1:0]     a,      // multiplier (Booth-encoded)
    input  wire [W-1:0]     b,      // multiplicand
    input  wire [OUT_W-1:0] x_s,    // incoming carry-save pair
    input  wire [OUT_W-1:0] x_c,
    output wire [OUT_W-1:0] y_s,
    output wire [OUT_W-1:0] y_c
);
    localparam integer ND = (W + 1) / 2;

    wire [3*ND-1:0] dig;
    wire [W:0]      nb = ~{b[W-1], b} + 1'b1;
    r4_digits #(.W(W), .ENC(0)) u_enc (.a(a), .dig(dig));

    wire [(ND+2)*OUT_W-1:0] rows;
    genvar i;
    generate
        for (i = 0; i < ND; i = i + 1) begin : g_pp
            wire [W+1:0] pp;
            r4_pp #(.W(W)) u_pp (.dig(dig[3*i +: 3]), .b(b), .nb(nb), .pp(pp));
            wire signed [OUT_W-1:0] ext = $signed(pp);
            assign rows[i*OUT_W +: OUT_W] = ext << (2*i);
        end
    endgenerate
    assign rows[ND*OUT_W +: OUT_W]     = x_s;
    assign rows[(ND+1)*OUT_W +: OUT_W] = x_c;

    csa_tree #(.N(ND + 2), .WIDTH(OUT_W)) u_tree (.in_flat(rows), .sum(y_s), .carry(y_c));
endmodule

// opt3_pe: OPT3 PE of the HPCA'25 TPE paper: radix-4 encoded multiplier operands, zero digits skipped.
//
// The bit-weight loop of the MAC becomes temporal: an accepted operand pair (a, b) is radix-4
// encoded (EN-T by default, as in the paper; modified Booth with ENC = 0) and the PE then adds one
// non-zero partial product d_i * b * 4^i per cycle into a carry-save accumulator through a single
// 3:2 compressor, lowest digit first.  An operand therefore occupies max(1, nnz(a)) cycles
// (cosim.golden.opt3_operand_cycles): zero digits, and with EN-T runs of ones, cost nothing.
// The next operand is accepted in the cycle that processes the current operand's last digit, so a
// dot product of operands a_0..a_{K-1} takes sum_k max(1, nnz(a_k)) cycles; the one final add of the
// carry-save pair runs one cycle later (out_valid).  From the edge that accepts the first pair to
// the edge that raises out_valid: sum_k max(1, nnz(a_k)) + 1 cycles.
// Interface: valid/ready on the input (in_ready depends only on state), first/last as in mac_pe.
module opt3_pe #(
    parameter integer W     = 8,                   // operand width (two's complement)
    parameter integer K_MAX = 256,                 // longest dot product the accumulator must hold
    parameter integer ENC   = 1,                   // radix-4 encoding: 1 EN-T (paper), 0 modified Booth
    parameter integer ACC_W = 2*W + $clog2(K_MAX)  // accumulator width: 2W + ceil(log2 K_MAX), derived
) (
    input  wire                    clk,
    input  wire                    rst,       // synchronous, active high
    input  wire                    in_valid,
    output wire                    in_ready,
    input  wire                    first,
    input  wire                    last,
    input  wire signed [W-1:0]     a,         // multiplier: encoded, its digits are serialised
    input  wire signed [W-1:0]     b,         // multiplicand
    output reg                     out_valid,
    output reg  signed [ACC_W-1:0] result
);
    localparam integer ND = (W + 1) / 2;

    reg              have;          // an operand is being processed
    reg  [3*ND-1:0]  dig;           // its digits not yet added
    reg  [W-1:0]     breg;
    reg              lastf;         // it is the last operand of a dot product
    reg              clr;           // it is the first: start from a zero accumulator
    reg  [ACC_W-1:0] acc_s, acc_c;
    reg              fin;

    // Lowest non-zero digit, one-hot.
    wire [ND-1:0] nz;
    wire [ND-1:0] sel;
    genvar i;
    generate
        for (i = 0; i < ND; i = i + 1) begin : g_nz
            assign nz[i] = dig[3*i] | dig[3*i + 1];
            if (i == 0) begin : g_first
                assign sel[i] = nz[i];
            end else begin : g_rest
                assign sel[i] = nz[i] & ~|nz[i-1:0];
            end
        end
    endgenerate
    wire [ND-1:0] rest    = nz & ~sel;
    wire          op_done = have & ~|rest;     // this cycle adds the operand's last digit (or it has none)
    assign in_ready = ~have | op_done;

    // The selected digit (a 3-bit select), its partial product, shifted to the digit's bit weight.
    reg [2:0] d_sel;
    integer j;
    always @(*) begin
        d_sel = 3'b000;
        for (j = 0; j < ND; j = j + 1) d_sel = d_sel | (dig[3*j +: 3] & {3{sel[j]}});
    end
    wire [W:0]   nb = ~{breg[W-1], breg} + 1'b1;
    wire [W+1:0] pp;
    r4_pp #(.W(W)) u_pp (.dig(d_sel), .b(breg), .nb(nb), .pp(pp));
    wire signed [ACC_W-1:0] pp_ext = $signed(pp);
    reg [ACC_W-1:0] pp_sel;
    integer k;
    always @(*) begin
        pp_sel = {ACC_W{1'b0}};
        for (k = 0; k < ND; k = k + 1) pp_sel = pp_sel | ((pp_ext << (2*k)) & {ACC_W{sel[k]}});
    end

    wire [ACC_W-1:0] nxt_s, nxt_c;
    csa_tree #(.N(3), .WIDTH(ACC_W)) u_csa (
        .in_flat({pp_sel, clr ? {ACC_W{1'b0}} : acc_c, clr ? {ACC_W{1'b0}} : acc_s}),
        .sum(nxt_s), .carry(nxt_c)
    );

    wire [3*ND-1:0] enc;
    r4_digits #(.W(W), .ENC(ENC)) u_enc (.a(a), .dig(enc));

    reg [3*ND-1:0] clear_mask;
    integer q;
    always @(*) begin
        for (q = 0; q < ND; q = q + 1) clear_mask[3*q +: 3] = {3{~sel[q]}};
    end

    always @(posedge clk) begin
        if (have) begin
            acc_s <= nxt_s;
            acc_c <= nxt_c;
            clr   <= 1'b0;
            dig   <= dig & clear_mask;
        end
        if (in_valid & in_ready) begin      // load the next operand (possibly in op_done's cycle)
            dig   <= enc;
            breg  <= b;
            lastf <= last;
            clr   <= first;
        end
        if (fin) result <= acc_s + acc_c;   // the one final add
        if (rst) begin
            have      <= 1'b0;
            fin       <= 1'b0;
            out_valid <= 1'b0;
        end else begin
            have      <= (in_valid & in_ready) | (have & ~op_done);
            fin       <= op_done & lastf;
            out_valid <= fin;
        end
    end
endmodule

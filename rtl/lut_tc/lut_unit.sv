// LUT unit: table precompute + symmetric table storage + one lookup lane (a "DP-K" LUT unit
// with its own table, as in a conventional LUT design; the array shares one table per row).
//
// Protocol: `load` latches the table of `act` at the clock edge; from the next cycle on, each
// `en` cycle looks up (sel, neg) for bit plane `bidx` and shift-accumulates.  Loading the next
// group's table in the last cycle of the current group keeps the lane busy every cycle.
module lut_unit #(
    parameter integer K     = 4,   // activations per table
    parameter integer AW    = 8,   // activation width
    parameter integer TW    = 11,  // table entry width (>= AW + ceil(log2 K) + 1 for symmetric tables)
    parameter integer WB_W  = 3,   // bit-plane index width
    parameter integer ACC_W = 32   // accumulator width
) (
    input  wire                    clk,
    input  wire                    load,
    input  wire [K*AW-1:0]         act,
    input  wire                    en,
    input  wire                    clear,
    input  wire [K-2:0]            sel,
    input  wire                    neg,
    input  wire [WB_W-1:0]         bidx,
    output wire signed [ACC_W-1:0] acc
);
    localparam integer E = 1 << (K - 1);
    wire [E*TW-1:0] table_next;
    reg  [E*TW-1:0] table_q;

    lut_table_gen #(.K(K), .AW(AW), .TW(TW)) u_gen (.act(act), .table_o(table_next));

    always @(posedge clk) begin
        if (load) table_q <= table_next;
    end

    lut_cell #(.K(K), .TW(TW), .WB_W(WB_W), .ACC_W(ACC_W)) u_cell (
        .clk(clk), .en(en), .clear(clear), .table_i(table_q), .sel(sel), .neg(neg), .bidx(bidx), .acc(acc)
    );
endmodule

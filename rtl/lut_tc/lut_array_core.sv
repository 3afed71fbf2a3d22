// LUT array datapath, M x N x K (paper Fig. 9): M tables, each built from a row's K activations
// and broadcast to N lanes; each column's K-bit weight pattern broadcast to M lanes.
// One call of all M*N lanes per cycle = one weight bit plane of an M x N x K LMMA tile.
module lut_array_core #(
    parameter integer M     = 2,   // rows (tables)
    parameter integer N     = 4,   // columns (lanes per table)
    parameter integer K     = 4,   // activations per table
    parameter integer AW    = 8,   // activation width
    parameter integer TW    = 11,  // table entry width
    parameter integer WB_W  = 3,   // bit-plane index width
    parameter integer ACC_W = 32   // accumulator width
) (
    input  wire                  clk,
    input  wire                  load,     // latch the M tables of `act`
    input  wire [M*K*AW-1:0]     act,      // row m, activation k at [(m*K + k)*AW +: AW]
    input  wire                  en,
    input  wire                  clear,
    input  wire [WB_W-1:0]       bidx,
    input  wire [N*K-1:0]        wplane,   // column n at [n*K +: K]: {neg, sel[K-2:0]}
    output wire [M*N*ACC_W-1:0]  result    // (m, n) at [(m*N + n)*ACC_W +: ACC_W]
);
    localparam integer E = 1 << (K - 1);

    genvar m, n;
    generate
        for (m = 0; m < M; m = m + 1) begin : g_row
            wire [E*TW-1:0] table_next;
            reg  [E*TW-1:0] table_q;
            lut_table_gen #(.K(K), .AW(AW), .TW(TW)) u_gen (.act(act[m*K*AW +: K*AW]), .table_o(table_next));
            always @(posedge clk) begin
                if (load) table_q <= table_next;
            end
            for (n = 0; n < N; n = n + 1) begin : g_col
                wire signed [ACC_W-1:0] acc;
                lut_cell #(.K(K), .TW(TW), .WB_W(WB_W), .ACC_W(ACC_W)) u_cell (
                    .clk(clk), .en(en), .clear(clear), .table_i(table_q),
                    .sel(wplane[n*K +: K-1]), .neg(wplane[n*K + K - 1]), .bidx(bidx), .acc(acc)
                );
                assign result[(m*N + n)*ACC_W +: ACC_W] = acc;
            end
        end
    endgenerate
endmodule

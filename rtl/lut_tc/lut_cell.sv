// One LUT Tensor Core lookup lane: mux lookup into a symmetric table, conditional negate,
// bit-serial shift-accumulate (paper Fig. 8).
//
// Each cycle takes one weight bit plane's K-bit pattern for this column, already transformed
// offline (paper Eq. 6, cosim.golden.lut_indices): sel = low K-1 bits of (pattern XOR (neg ? ~0 : 0)),
// neg = the pattern's top bit.  It adds (+/-table[sel]) << bidx into the accumulator; `clear`
// starts a new output (the accumulator takes the term instead of adding it).
module lut_cell #(
    parameter integer K     = 4,   // activations per table (2..8)
    parameter integer TW    = 11,  // table entry width
    parameter integer WB_W  = 3,   // width of the bit-plane index (weights up to 2^WB_W bits)
    parameter integer ACC_W = 32   // accumulator width
) (
    input  wire                          clk,
    input  wire                          en,       // a lookup this cycle
    input  wire                          clear,    // first term of a new output
    input  wire [(1<<(K-1))*TW-1:0]      table_i,  // stored entries, entry e at [e*TW +: TW]
    input  wire [K-2:0]                  sel,      // table index
    input  wire                          neg,      // negate the looked-up entry
    input  wire [WB_W-1:0]               bidx,     // weight bit plane b: shift by b
    output reg  signed [ACC_W-1:0]       acc
);
    wire signed [TW-1:0]    entry = table_i[sel*TW +: TW];
    wire signed [ACC_W-1:0] ext   = {{(ACC_W - TW){entry[TW-1]}}, entry};
    wire signed [ACC_W-1:0] val   = neg ? -ext : ext;
    wire signed [ACC_W-1:0] term  = val <<< bidx;

    always @(posedge clk) begin
        if (en) acc <= (clear ? {ACC_W{1'b0}} : acc) + term;
    end
endmodule

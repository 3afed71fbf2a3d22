// Vector (operand) buffer of the in-bank PIM GEMV unit: DEPTH entries of one column burst each.
//
// Loaded by vector-buffer writes (the PIM model's GWRITE, one burst per cycle; a whole row takes
// DEPTH writes) and read combinationally by the compute command's column index, so a MAC sees the
// entry in the cycle it is issued.  A write and a read of the same entry in one cycle read the old
// value.  In NeuPIMs/Newton one such buffer serves all banks of a channel (the "global buffer");
// cosim.hw.pim_unit accounts its area per channel, the datapath per bank.
module pim_vbuf #(
    parameter integer DEPTH = 32,  // entries (bursts): a DRAM row's worth of the vector
    parameter integer WIDTH = 256  // bits per entry: lanes x operand width
) (
    input  wire                                     clk,
    input  wire                                     we,
    input  wire [(DEPTH > 1 ? $clog2(DEPTH) : 1)-1:0] waddr,
    input  wire [WIDTH-1:0]                         wdata,
    input  wire [(DEPTH > 1 ? $clog2(DEPTH) : 1)-1:0] raddr,
    output wire [WIDTH-1:0]                         rdata
);
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
    end
    assign rdata = mem[raddr];
endmodule

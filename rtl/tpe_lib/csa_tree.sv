// csa_tree: carry-save (Wallace-style) reduction of N addends to a sum/carry pair.
//
// Each layer groups the remaining rows in threes and replaces every group by a 3:2 compressor
// (full adders: s = x^y^z, c = majority(x,y,z) << 1); leftover rows pass through.  All arithmetic
// is modulo 2^WIDTH, so sum + carry == (sum of the addends) mod 2^WIDTH: the caller sizes WIDTH
// so the true sum fits (see cosim.golden.acc_width).  No carry-propagate adder is used here; the
// one final add is the caller's.  Depth: ceil(log_1.5(N/2)) full-adder levels.
module csa_tree #(
    parameter integer N     = 6,   // number of addends (>= 1)
    parameter integer WIDTH = 24   // width of every addend and of sum/carry (two's complement)
) (
    input  wire [N*WIDTH-1:0] in_flat,  // addend r in bits [r*WIDTH +: WIDTH]
    output wire [WIDTH-1:0]   sum,
    output wire [WIDTH-1:0]   carry
);
    // Rows left after `layers` layers of 3:2 reduction, starting from n rows.
    function integer rows_after;
        input integer n;
        input integer layers;
        integer i, c;
        begin
            c = n;
            for (i = 0; i < layers; i = i + 1)
                if (c > 2) c = (c / 3) * 2 + (c % 3);
            rows_after = c;
        end
    endfunction

    // Layers needed to get from n rows down to at most two.
    function integer num_layers;
        input integer n;
        integer i, c, l;
        begin
            c = n;
            l = 0;
            for (i = 0; i < 64; i = i + 1)
                if (c > 2) begin
                    c = (c / 3) * 2 + (c % 3);
                    l = l + 1;
                end
            num_layers = l;
        end
    endfunction

    localparam integer L = num_layers(N);

    // g_layer[l].g_row[r].v is row r entering layer l (layer L holds the final one or two rows).
    // Every row is its own net, so event-driven simulators only wake the logic that reads it.
    genvar l, r;
    generate
        for (l = 0; l <= L; l = l + 1) begin : g_layer
            localparam integer NIN = rows_after(N, l);
            localparam integer NGP = (l == 0) ? 0 : rows_after(N, l - 1) / 3;  // 3:2 groups feeding it
            for (r = 0; r < NIN; r = r + 1) begin : g_row
                wire [WIDTH-1:0] v;
                if (l == 0) begin : g_in
                    assign v = in_flat[r*WIDTH +: WIDTH];
                end else if (r < 2*NGP) begin : g_fa
                    // Row r is the sum (even r) or the carry (odd r) of the previous layer's
                    // group r/2: a full adder on every bit.
                    wire [WIDTH-1:0] x = g_layer[l-1].g_row[3*(r/2)].v;
                    wire [WIDTH-1:0] y = g_layer[l-1].g_row[3*(r/2) + 1].v;
                    wire [WIDTH-1:0] z = g_layer[l-1].g_row[3*(r/2) + 2].v;
                    if (r % 2 == 0) begin : g_sum
                        assign v = x ^ y ^ z;
                    end else begin : g_carry
                        wire [WIDTH-1:0] maj = (x & y) | (x & z) | (y & z);
                        assign v = {maj[WIDTH-2:0], 1'b0};
                    end
                end else begin : g_pass
                    assign v = g_layer[l-1].g_row[3*NGP + r - 2*NGP].v;
                end
            end
        end
        if (rows_after(N, L) == 1) begin : g_one
            assign sum   = g_layer[L].g_row[0].v;
            assign carry = {WIDTH{1'b0}};
        end else begin : g_two
            assign sum   = g_layer[L].g_row[0].v;
            assign carry = g_layer[L].g_row[1].v;
        end
    endgenerate
endmodule

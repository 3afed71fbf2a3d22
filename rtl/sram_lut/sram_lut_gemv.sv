// SRAM-subarray LUT-GEMV engine (SAIL-like; the microarchitecture is INFERRED, see cosim/hw/sram_lut.py).
//
// One subarray of ROWS rows x ROW_W bits with one read port (a cycle reads either a weight row
// or a table row) and one write port (table rows and weight rows arrive as cache fills):
//   rows [0, TABLE_GROUPS*ENTRIES)      symmetric tables, row g*ENTRIES+i holds entry i of the
//                                       tables of group g for FIELDS tokens side by side
//                                       (field f = bits [f*ENTRY_W +: ENTRY_W], signed);
//   rows [TABLE_GROUPS*ENTRIES, ROWS)   weight patterns, PPR = ROW_W/GROUP_K per row, pattern p at
//                                       bits [p*GROUP_K +: GROUP_K] = {negate, index[GROUP_K-2:0]}
//                                       (offline transform of cosim.golden.lut_indices), laid out
//                                       contiguously in order column n, bit-plane b, group g.
// After `start` the engine reads every weight row of the tile (1 cycle each) and, for every
// pattern of a live group (cfg_live), reads the table row it indexes (1 cycle), then negates,
// shifts by the bit-plane and accumulates into FIELDS accumulators (bit-serial over 1..8-bit
// weights, runtime cfg_wbits).  Patterns of dead groups (all-zero tables: pattern-aware skip)
// cost no cycle.  When a column's last live pattern is accumulated the FIELDS sums are output
// (out_valid) and the accumulators clear.  Cycles from the edge that samples `start` to the edge
// that raises `done`: weight_rows_read + live_lookups + 2  (cosim.hw.sram_lut.tile_cycles).
// Output = a @ q' per token restricted to the tile's groups (q' = 2q - (2^B - 1), paper Eq. 2),
// i.e. cosim.golden.lut_gemm_symmetric_raw.
module sram_lut_gemv #(
    parameter integer GROUP_K      = 4,   // activations per table (2^(GROUP_K-1) stored entries)
    parameter integer ENTRY_W      = 12,  // table entry field width (INT8 x 4 needs 11)
    parameter integer FIELDS       = 4,   // tables (tokens) per row = tokens per lookup
    parameter integer ACC_W        = 32,  // accumulator width
    parameter integer TABLE_GROUPS = 8,   // groups whose tables fit the table rows
    parameter integer WEIGHT_ROWS  = 64,  // rows for weight patterns
    parameter integer COL_W        = 12   // column counter width (columns per tile < 2^COL_W)
) (
    input  wire                        clk,
    input  wire                        rst,
    // write port (table / weight rows)
    input  wire                        wr_en,
    input  wire [$clog2(TABLE_GROUPS*(1<<(GROUP_K-1))+WEIGHT_ROWS)-1:0] wr_addr,
    input  wire [FIELDS*ENTRY_W-1:0]   wr_data,
    // tile configuration, held while busy
    input  wire                        start,
    input  wire [3:0]                  cfg_wbits,   // weight precision 1..8
    input  wire [$clog2(TABLE_GROUPS+1)-1:0] cfg_groups,  // groups in the tile 1..TABLE_GROUPS
    input  wire [COL_W-1:0]            cfg_cols,    // output columns in the tile >= 1
    input  wire [TABLE_GROUPS-1:0]     cfg_live,    // group g has a non-zero table (pattern-aware)
    output reg                         busy,
    output reg                         done,
    output reg                         out_valid,
    output reg  [COL_W-1:0]            out_col,
    output reg  [FIELDS*ACC_W-1:0]     out_acc
);
    localparam integer ENTRIES = 1 << (GROUP_K - 1);
    localparam integer ROW_W   = FIELDS * ENTRY_W;
    localparam integer PPR     = ROW_W / GROUP_K;
    localparam integer TROWS   = TABLE_GROUPS * ENTRIES;
    localparam integer ROWS    = TROWS + WEIGHT_ROWS;
    localparam integer AW      = $clog2(ROWS);
    localparam integer GW      = $clog2(TABLE_GROUPS + 1);
    localparam integer PW      = $clog2(PPR + 1);
    localparam integer LW      = COL_W + 4 + GW + 1;  // pattern counter width

    localparam [1:0] S_IDLE = 2'd0, S_FETCH = 2'd1, S_LOOK = 2'd2, S_DRAIN = 2'd3;

    reg [ROW_W-1:0] mem [0:ROWS-1];
    reg [1:0]       state;

    // running position of the next weight row's first pattern
    reg [GW-1:0]    row_g;
    reg [3:0]       row_b;
    reg [COL_W-1:0] row_n;
    reg [AW-1:0]    row_addr;
    reg [LW-1:0]    remaining;  // patterns not yet fetched

    // current row: its patterns and per-slot metadata
    reg [ROW_W-1:0]       wbuf;
    reg [PPR-1:0]         pending;
    reg [PPR*GW-1:0]      slot_g;
    reg [PPR*4-1:0]       slot_b;
    reg [PPR*COL_W-1:0]   slot_n;
    reg [PPR-1:0]         slot_last;

    // highest live group among the configured ones: a column ends at (b = W-1, g = last_live)
    reg [GW-1:0] last_live;
    integer k;
    always @* begin
        last_live = 0;
        for (k = 0; k < TABLE_GROUPS; k = k + 1)
            if (k < cfg_groups && cfg_live[k]) last_live = k;
    end

    // metadata of the PPR slots of the row at (row_n, row_b, row_g)
    reg [PPR-1:0]       c_live, c_last;
    reg [PPR*GW-1:0]    c_g;
    reg [PPR*4-1:0]     c_b;
    reg [PPR*COL_W-1:0] c_n;
    reg [GW-1:0]        t_g, nx_g;
    reg [3:0]           t_b, nx_b;
    reg [COL_W-1:0]     t_n, nx_n;
    integer s;
    always @* begin
        t_g = row_g;
        t_b = row_b;
        t_n = row_n;
        for (s = 0; s < PPR; s = s + 1) begin
            c_g[s*GW +: GW]       = t_g;
            c_b[s*4 +: 4]         = t_b;
            c_n[s*COL_W +: COL_W] = t_n;
            c_live[s] = (s < remaining) && cfg_live[t_g];
            c_last[s] = (t_b == cfg_wbits - 4'd1) && (t_g == last_live);
            if (t_g == cfg_groups - 1) begin
                t_g = 0;
                if (t_b == cfg_wbits - 4'd1) begin
                    t_b = 0;
                    t_n = t_n + 1'b1;
                end else begin
                    t_b = t_b + 4'd1;
                end
            end else begin
                t_g = t_g + 1'b1;
            end
        end
        nx_g = t_g;
        nx_b = t_b;
        nx_n = t_n;
    end

    // lowest pending slot
    reg [PW-1:0] sel;
    reg [PPR-1:0] pending_next;
    integer j;
    always @* begin
        sel = 0;
        for (j = PPR - 1; j >= 0; j = j - 1)
            if (pending[j]) sel = j;
        pending_next = pending & ~({{(PPR-1){1'b0}}, 1'b1} << sel);
    end

    wire [GROUP_K-1:0] pat      = wbuf[sel*GROUP_K +: GROUP_K];
    wire [AW-1:0]      tbl_addr = slot_g[sel*GW +: GW] * ENTRIES + pat[GROUP_K-2:0];
    wire               more_rows = remaining > PPR;

    // lookup pipeline stage 1 -> stage 2
    reg                 p1_valid, p1_neg, p1_last;
    reg [3:0]           p1_b;
    reg [COL_W-1:0]     p1_col;
    reg [ROW_W-1:0]     p1_row;

    always @(posedge clk) begin
        if (wr_en) mem[wr_addr] <= wr_data;
    end

    always @(posedge clk) begin
        if (rst) begin
            state    <= S_IDLE;
            busy     <= 1'b0;
            done     <= 1'b0;
            p1_valid <= 1'b0;
        end else begin
            done     <= 1'b0;
            p1_valid <= 1'b0;
            case (state)
                S_IDLE: if (start) begin
                    state     <= S_FETCH;
                    busy      <= 1'b1;
                    row_g     <= 0;
                    row_b     <= 0;
                    row_n     <= 0;
                    row_addr  <= TROWS;
                    remaining <= cfg_cols * cfg_wbits * cfg_groups;
                end
                S_FETCH: begin
                    wbuf      <= mem[row_addr];
                    pending   <= c_live;
                    slot_g    <= c_g;
                    slot_b    <= c_b;
                    slot_n    <= c_n;
                    slot_last <= c_last;
                    row_g     <= nx_g;
                    row_b     <= nx_b;
                    row_n     <= nx_n;
                    row_addr  <= row_addr + 1'b1;
                    remaining <= more_rows ? remaining - PPR : 0;
                    if (c_live != 0)    state <= S_LOOK;
                    else if (more_rows) state <= S_FETCH;
                    else                state <= S_DRAIN;
                end
                S_LOOK: begin
                    p1_valid <= 1'b1;
                    p1_neg   <= pat[GROUP_K-1];
                    p1_b     <= slot_b[sel*4 +: 4];
                    p1_col   <= slot_n[sel*COL_W +: COL_W];
                    p1_last  <= slot_last[sel];
                    p1_row   <= mem[tbl_addr];
                    pending  <= pending_next;
                    if (pending_next == 0) state <= (remaining != 0) ? S_FETCH : S_DRAIN;
                end
                S_DRAIN: begin
                    state <= S_IDLE;
                    busy  <= 1'b0;
                    done  <= 1'b1;
                end
            endcase
        end
    end

    // stage 2: negate, shift by the bit-plane, accumulate; emit a column when it completes
    reg  [FIELDS*ACC_W-1:0] acc;
    wire [FIELDS*ACC_W-1:0] acc_sum;
    genvar f;
    generate
        for (f = 0; f < FIELDS; f = f + 1) begin : g_field
            wire signed [ENTRY_W-1:0] entry = p1_row[f*ENTRY_W +: ENTRY_W];
            wire signed [ACC_W-1:0]   ext   = entry;
            wire signed [ACC_W-1:0]   term  = (p1_neg ? -ext : ext) <<< p1_b;
            assign acc_sum[f*ACC_W +: ACC_W] = acc[f*ACC_W +: ACC_W] + term;
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            acc       <= 0;
            out_valid <= 1'b0;
        end else begin
            out_valid <= 1'b0;
            if (state == S_IDLE && start) acc <= 0;
            if (p1_valid) begin
                if (p1_last) begin
                    out_acc   <= acc_sum;
                    out_col   <= p1_col;
                    out_valid <= 1'b1;
                    acc       <= 0;
                end else begin
                    acc <= acc_sum;
                end
            end
        end
    end
endmodule

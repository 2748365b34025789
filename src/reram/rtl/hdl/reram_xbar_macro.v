// reram_xbar_macro: BEHAVIOURAL MODEL OF THE ANALOG CROSSBAR (not synthesizable as written).
// It stands for the ReRAM array, its sense amplifiers and the differential current subtraction: on start
// it computes, for each signed column pair c of the selected array,
//     S[c] = sum_r drive[r] * (gpos[base + c*ROWS + r] - gneg[base + c*ROWS + r])
// over the programmed integer conductance codes, holds the sums (sample and hold) and raises valid after
// LAT cycles. The analog column multiplexer in front of the ADCs gives ADC lane k the held sum of column
// round * N_ADC + k (zero beyond the array's columns). The conductance codes are loaded at run time through the
// write port (or, in simulation, preloaded from files named by a plusarg), never compiled in.
`default_nettype none

module reram_xbar_macro #(
    parameter ROWS = 128,     // rows per array
    parameter PAIRS = 64,     // signed column pairs per array
    parameter XW = 8,         // row drive width
    parameter GW = 14,        // conductance code width
    parameter SW = 40,        // width of a signed column sum
    parameter GDEPTH = 1024,  // conductance memory depth (cells of every array of every layer)
    parameter GAW = 10,       // conductance memory address width
    parameter LAT = 1,        // array read latency in cycles (>= 1)
    parameter N_ADC = 8,      // ADC lanes behind the column multiplexer
    parameter RW = 8,         // width of the multiplexer's round select
    parameter PRELOAD_ID = 0  // names this array's preload files (its host word base)
) (
    input  wire                clk,
    input  wire                rst,
    input  wire                wr_pos,
    input  wire                wr_neg,
    input  wire [GAW-1:0]      wr_addr,
    input  wire [GW-1:0]       wr_data,
    input  wire                start,
    input  wire [GAW-1:0]      base,
    input  wire [7:0]          ncols,
    input  wire [ROWS*XW-1:0]  drive,
    output wire                valid,
    input  wire [RW-1:0]       round,
    output wire [N_ADC*SW-1:0] lane_sums
);

    /*verilator no_inline_module*/  // one copy of the code for its many instances (build time)

`ifndef SYNTHESIS  // behavioural body: synthesis reads this module as a black box
    reg [PAIRS*SW-1:0] sums;

    reg [GW-1:0] gpos_mem [0:GDEPTH-1];
    reg [GW-1:0] gneg_mem [0:GDEPTH-1];
    reg [LAT-1:0] valid_reg;

    always @(posedge clk) begin
        if (wr_pos) gpos_mem[wr_addr] <= wr_data;
        if (wr_neg) gneg_mem[wr_addr] <= wr_data;
    end

    // Simulation backdoor: with the plusarg +gmem=DIR the codes are read at time 0 from DIR/gpos_<PRELOAD_ID>.hex
    // and DIR/gneg_<PRELOAD_ID>.hex (one hex code per line, write-port addresses from 0) instead of one host write
    // per cell -- the same contents, without a simulated clock cycle per cell. Without it the memories start empty.
    reg [8*1024-1:0] preload_dir;
    reg [8*1100-1:0] preload_file;
    initial begin
        if ($value$plusargs("gmem=%s", preload_dir)) begin
            $sformat(preload_file, "%0s/gpos_%0d.hex", preload_dir, PRELOAD_ID);
            $readmemh(preload_file, gpos_mem);
            $sformat(preload_file, "%0s/gneg_%0d.hex", preload_dir, PRELOAD_ID);
            $readmemh(preload_file, gneg_mem);
        end
    end

    // Behavioural model: blocking temporaries inside the clocked block are intended here.
    // A read first lists the rows driven at a non-zero level (a row at zero adds nothing to any column: the unused
    // rows of a tile, zero padding and the activations that ReLU zeroed), then sums each column over those rows
    // only: the same sums, in time proportional to the non-zero inputs.
    /* verilator lint_off BLKSEQ */
    integer c;
    integer r;
    integer i;
    integer n_nz;
    reg signed [SW-1:0] acc;
    reg [GAW-1:0] addr;
    reg [GAW-1:0] col_base;
    reg [XW-1:0] level;
    reg [XW-1:0] nz_level [0:ROWS-1];
    reg [GAW-1:0] nz_row [0:ROWS-1];
    reg [PAIRS*SW-1:0] sums_next;
    always @(posedge clk) begin
        if (rst) begin
            valid_reg <= {LAT{1'b0}};
            sums <= {PAIRS*SW{1'b0}};
        end else begin
            valid_reg[0] <= start;
            for (i = 1; i < LAT; i = i + 1) valid_reg[i] <= valid_reg[i-1];
            if (start) begin
                n_nz = 0;
                /*verilator unroll_full*/  // constant drive indices
                for (r = 0; r < ROWS; r = r + 1) begin
                    level = drive[r*XW +: XW];
                    if (level != {XW{1'b0}}) begin
                        nz_level[n_nz] = level;
                        nz_row[n_nz] = r[GAW-1:0];
                        n_nz = n_nz + 1;
                    end
                end
                // loops bounded by the run-time column and row counts: compact simulator code for many instances
                sums_next = {PAIRS*SW{1'b0}};
                for (c = 0; c < {24'd0, ncols}; c = c + 1) begin
                    acc = {SW{1'b0}};
                    col_base = base + c[GAW-1:0] * ROWS[GAW-1:0];
                    for (i = 0; i < n_nz; i = i + 1) begin
                        addr = col_base + nz_row[i];
                        acc = acc + $signed({{(SW-XW){1'b0}}, nz_level[i]})
                            * ($signed({{(SW-GW){1'b0}}, gpos_mem[addr]}) - $signed({{(SW-GW){1'b0}}, gneg_mem[addr]}));
                    end
                    sums_next[c*SW +: SW] = acc;
                end
                sums <= sums_next;
            end
        end
    end

    /* verilator lint_on BLKSEQ */

    assign valid = valid_reg[LAT-1];

    genvar k;
    generate
        for (k = 0; k < N_ADC; k = k + 1) begin : g_mux
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] col = {{(32-RW){1'b0}}, round} * N_ADC + k;
            /* verilator lint_on UNUSEDSIGNAL */
            assign lane_sums[k*SW +: SW] = (col < PAIRS) ? sums[col*SW +: SW] : {SW{1'b0}};
        end
    endgenerate

`endif

endmodule

`default_nettype wire

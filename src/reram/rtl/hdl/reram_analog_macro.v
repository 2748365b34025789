// reram_analog_macro: BEHAVIOURAL MODEL OF ONE ANALOG MACRO (not synthesizable as written): the ReRAM crossbar
// with its row drivers (DACs), sample-and-holds and column multiplexer (reram_xbar_macro), and the N_ADC
// converters behind the multiplexer (reram_adc). Synthesis reads it as one black box: its area and energy come
// from the energy preset (arrays, DACs, sample-and-holds, integrators, ADCs), never from Yosys, and the digital
// periphery that Yosys sees starts at the converters' output codes.
// The converters digitize the column sums at a per-row-tile full scale (mult, shift: the converter's
// programmable reference, loaded by the host like the conductances); there is no digital gain stage.
`default_nettype none

module reram_analog_macro #(
    parameter ROWS = 128,     // rows per array
    parameter PAIRS = 64,     // signed column pairs per array
    parameter XW = 8,         // row drive width
    parameter GW = 14,        // conductance code width
    parameter SW = 40,        // width of a signed column sum
    parameter GAW = 13,       // conductance memory address width (clog2(ROWS * PAIRS))
    parameter ARRAY_LAT = 1,  // array read latency in cycles (>= 1)
    parameter N_ADC = 8,      // converters behind the column multiplexer
    parameter RW = 8,         // width of the multiplexer's round select
    parameter ADC_BITS = 8,   // converter resolution in bits (codes have ADC_BITS + 1 bits, signed)
    parameter integer CODE_MIN_S = -128,  // signed code range
    parameter integer CODE_MAX_S = 127,
    parameter integer CODE_MIN_U = 0,     // unipolar code range
    parameter integer CODE_MAX_U = 255,
    parameter ADC_LAT = 1,    // conversion latency in cycles (>= 1)
    parameter MW = 20,        // width of the full-scale multiplier (reram_rules.vh: ADC_MULT_W)
    parameter SHW = 6,        // width of the full-scale shift (reram_rules.vh: ADC_SHIFT_W)
    parameter PRELOAD_ID = 0  // names this array's preload files (its host word base)
) (
    input  wire                        clk,
    input  wire                        rst,
    input  wire                        wr_pos,     // conductance write port
    input  wire                        wr_neg,
    input  wire [GAW-1:0]              wr_addr,
    input  wire [GW-1:0]               wr_data,
    input  wire                        start,      // read the array with the row drive below
    input  wire [7:0]                  ncols,      // columns in use
    input  wire [ROWS*XW-1:0]          drive,      // row drive levels (from the row input register)
    input  wire [RW-1:0]               round,      // column multiplexer: round r gives converter k column r*N_ADC+k
    input  wire [N_ADC-1:0]            convert,    // converters that convert this cycle
    input  wire [MW-1:0]               mult,       // full scale of the conversion (per row tile)
    input  wire [SHW-1:0]              shift,
    input  wire                        is_signed,  // signed or unipolar code range
    output wire [N_ADC-1:0]            code_valid,
    output wire [N_ADC*(ADC_BITS+1)-1:0] codes
);

    /*verilator no_inline_module*/  // one copy of the code for its many instances (build time)

`ifndef SYNTHESIS  // behavioural body: synthesis reads this module as a black box
    wire [N_ADC*SW-1:0] lane_sums;
    /* verilator lint_off UNUSEDSIGNAL */
    wire xbar_valid;
    /* verilator lint_on UNUSEDSIGNAL */
    reram_xbar_macro #(.ROWS(ROWS), .PAIRS(PAIRS), .XW(XW), .GW(GW), .SW(SW), .GDEPTH(ROWS * PAIRS), .GAW(GAW),
                       .LAT(ARRAY_LAT), .N_ADC(N_ADC), .RW(RW), .PRELOAD_ID(PRELOAD_ID)) u_xbar (
        .clk(clk), .rst(rst), .wr_pos(wr_pos), .wr_neg(wr_neg), .wr_addr(wr_addr), .wr_data(wr_data),
        .start(start), .base({GAW{1'b0}}), .ncols(ncols), .drive(drive), .valid(xbar_valid), .round(round),
        .lane_sums(lane_sums)
    );

    genvar k;
    generate
        for (k = 0; k < N_ADC; k = k + 1) begin : g_adc
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_tag;
            /* verilator lint_on UNUSEDSIGNAL */
            reram_adc #(.SW(SW), .ADC_BITS(ADC_BITS), .CODE_MIN_S(CODE_MIN_S), .CODE_MAX_S(CODE_MAX_S),
                        .CODE_MIN_U(CODE_MIN_U), .CODE_MAX_U(CODE_MAX_U), .LAT(ADC_LAT), .TAGW(1)) u_adc (
                .clk(clk), .rst(rst), .in_valid(convert[k]), .in_value(lane_sums[k*SW +: SW]), .mult(mult),
                .shift(shift), .is_signed(is_signed), .in_tag(1'b0), .out_valid(code_valid[k]),
                .out_code(codes[k*(ADC_BITS+1) +: ADC_BITS+1]), .out_tag(unused_tag)
            );
        end
    endgenerate
`endif

endmodule

`default_nettype wire

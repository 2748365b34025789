"""RTL accelerator: Verilog sources, Verilator build, ctypes bridge and co-simulation."""

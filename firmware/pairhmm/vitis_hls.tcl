# seqa — Vitis HLS flow for the pair-HMM systolic array (firmware/pairhmm/pairhmm_hls.c).
# Usage (from the repository root):  vitis_hls -f firmware/pairhmm/vitis_hls.tcl
# Then link with:  v++ -l -t hw --config firmware/pairhmm/vitis_link.cfg -o build/firmware/pairhmm.xclbin \
#                      build/firmware/pairhmm_hls/solution1/impl/export.xo
# and run:  SEQA_FPGA_XCLBIN=build/firmware/pairhmm.xclbin seqa pairhmm -b fpga FILE
open_project -reset build/firmware/pairhmm_hls
set_top phmm_forward
add_files firmware/pairhmm/pairhmm_hls.c -cflags "-std=c11 -Ifirmware/pairhmm"
# C simulation = the same comparison against kernels/ref that `make test` runs
add_files -tb firmware/pairhmm/pairhmm_csim.c -cflags "-std=c11 -D_GNU_SOURCE -Ifirmware/pairhmm -Ikernels -Ihost/include -Itests"
add_files -tb kernels/ref/pairhmm.c -cflags "-std=c11 -D_GNU_SOURCE -Ikernels -Ihost/include"
add_files -tb drivers/phmm_io.c -cflags "-std=c11 -D_GNU_SOURCE -Ikernels -Ihost/include"
open_solution -reset solution1 -flow_target vitis
# Alveo U55C (HBM); change for other cards (U250: xcu250-figd2104-2L-e)
set_part xcu55c-fsvh2892-2L-e
create_clock -period 3.33 -name default
config_interface -m_axi_latency 64
csim_design -argv "csim_gatk_vectors"
csynth_design
export_design -format xo -output build/firmware/pairhmm_hls/solution1/impl/export.xo
exit

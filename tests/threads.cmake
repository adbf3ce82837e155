# The row-parallel kernels (layernorm, log-softmax, GLU, ReLU, add and
# the tiled linears run their rows on OpenBLAS's thread count when
# OMP_WAIT_POLICY is passive, kernels.c) against their references on two
# threads; the plain entries run them on one.
add_test(NAME kernels_two_threads COMMAND test_kernels)
set_tests_properties(kernels_two_threads PROPERTIES
                     ENVIRONMENT "OMP_WAIT_POLICY=passive;OPENBLAS_NUM_THREADS=2")
add_test(NAME exec_two_threads COMMAND test_exec)
set_tests_properties(exec_two_threads PROPERTIES
                     ENVIRONMENT "OMP_WAIT_POLICY=passive;OPENBLAS_NUM_THREADS=2")

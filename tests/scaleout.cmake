# Scale-out tests (tests/scaleout/): a sweep's shards through GNU parallel
# (scripts/sweep-parallel.sh) and a Slurm array job on a single-node Slurm
# the test starts itself (scripts/sweep-slurm.sh) merge to the unsharded
# run; shards finishing at the same moment lose nothing. The GNU parallel
# and Slurm tests exit 77 (skipped) when their packages are missing, the
# Slurm one also when not run as root.
add_test(NAME scaleout_parallel
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/scaleout/parallel.sh
                 $<TARGET_FILE:archex> ${CMAKE_SOURCE_DIR})
set_tests_properties(scaleout_parallel PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
add_test(NAME scaleout_same_moment
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/scaleout/same_moment.sh
                 $<TARGET_FILE:archex> ${CMAKE_SOURCE_DIR})
set_tests_properties(scaleout_same_moment PROPERTIES TIMEOUT 120)
add_test(NAME scaleout_slurm
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/scaleout/slurm.sh
                 $<TARGET_FILE:archex> ${CMAKE_SOURCE_DIR})
set_tests_properties(scaleout_slurm PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 240)

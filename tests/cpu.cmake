# The fast kernels against their references on the OpenBLAS kernel archex
# chooses for this CPU (cpu.h): the plain test_kernels entry runs on
# whatever OpenBLAS loads by itself, which on an unknown CPU is its generic
# kernel; this one sets OPENBLAS_CORETYPE to what `archex cpu --coretype`
# reports (after archex's own re-execution), so both kernels are tested.
add_test(NAME kernels_chosen_core
         COMMAND /bin/sh -c "ct=$(env -u OPENBLAS_CORETYPE -u ARCHEX_CORETYPE_CHOSEN \"$0\" cpu --coretype) && echo \"OpenBLAS kernel: $ct\" && OPENBLAS_CORETYPE=$ct exec \"$1\""
                 $<TARGET_FILE:archex> $<TARGET_FILE:test_kernels>
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
add_test(NAME exec_chosen_core
         COMMAND /bin/sh -c "ct=$(env -u OPENBLAS_CORETYPE -u ARCHEX_CORETYPE_CHOSEN \"$0\" cpu --coretype) && echo \"OpenBLAS kernel: $ct\" && OPENBLAS_CORETYPE=$ct exec \"$1\""
                 $<TARGET_FILE:archex> $<TARGET_FILE:test_exec>
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})

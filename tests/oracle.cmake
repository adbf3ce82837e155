# The PyTorch oracle (tests/oracle.py): archex's C inference against an
# independent float64 PyTorch model, for one small config of every family
# the executor runs. Needs Debian's python3-torch, python3-numpy and
# python3-yaml (scripts/test.sh installs them); without them the script
# exits 77 and ctest reports the test as skipped, not failed.
set(AX_ORACLE_CONFIGS
  transformer-post transformer-pre
  lite-dynamic-glu lite-lightweight lite-lm lite-lm-adaptive
  lightconv-dynamic-glu lightconv-mixed evolved)
set(AX_ORACLE_ARGS "")
foreach(c ${AX_ORACLE_CONFIGS})
  list(APPEND AX_ORACLE_ARGS ${CMAKE_SOURCE_DIR}/tests/configs/oracle/${c}.yaml)
endforeach()
add_test(NAME oracle
         COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/oracle.py
                 --archex $<TARGET_FILE:archex> ${AX_ORACLE_ARGS}
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(oracle PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
# The oracle's own building blocks against MODELS.md loops, no archex.
add_test(NAME oracle_self_test
         COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/oracle.py --self-test
                 ${CMAKE_SOURCE_DIR}/tests/configs/oracle/transformer-post.yaml
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(oracle_self_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)

# `archex run --precision`: a beam decode and a teacher-forced score at
# int8 and bf16 exit 0 (so executed MACs equal the analytic count) and name
# their precision in the JSON record; fp32 records stay as they were (no
# precision field).
foreach(prec int8 bf16)
  add_test(NAME run_precision_${prec}
           COMMAND /bin/sh -c "out=$(\"$0\" run \"$1\" --src '5 6 7 8 9' --max-len 6 --beam 2 --precision $2 --format json) && echo \"$out\" | grep -q \"\\\"precision\\\":\\\"$2\\\"\""
                   $<TARGET_FILE:archex> ${CMAKE_SOURCE_DIR}/tests/configs/oracle/lite-dynamic-glu.yaml ${prec})
  add_test(NAME run_precision_${prec}_score
           COMMAND /bin/sh -c "out=$(\"$0\" run \"$1\" --src '5 6 7 8 9' --tgt '9 8 7 6 5 4 3' --precision $2 --format json) && echo \"$out\" | grep -q \"\\\"precision\\\":\\\"$2\\\"\""
                   $<TARGET_FILE:archex> ${CMAKE_SOURCE_DIR}/tests/configs/oracle/transformer-post.yaml ${prec})
endforeach()
add_test(NAME run_precision_fp32_default
         COMMAND /bin/sh -c "out=$(\"$0\" run \"$1\" --src '5 6 7 8 9' --max-len 6 --precision fp32 --format json) && ! echo \"$out\" | grep -q precision"
                 $<TARGET_FILE:archex> ${CMAKE_SOURCE_DIR}/tests/configs/oracle/lite-dynamic-glu.yaml)

# Builds one layering probe (tests/layering.cmake) and checks the outcome:
# EXPECT=compiles: the build succeeds; EXPECT=missing: it fails, and the
# compiler says HEADER was not found (not some other error).
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(EXPECT STREQUAL "compiles")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${TARGET}: the layer's own header does not compile:\n${out}${err}")
  endif()
elseif(rc EQUAL 0)
  message(FATAL_ERROR "${TARGET}: an upward #include \"${HEADER}\" compiled; the layering is not enforced")
elseif(NOT "${out}${err}" MATCHES "${HEADER}: No such file or directory")
  message(FATAL_ERROR "${TARGET}: failed, but not on the missing header:\n${out}${err}")
else()
  string(REGEX MATCH "[^\n]*${HEADER}: No such file or directory" line "${out}${err}")
  message(STATUS "refused as it should be: ${line}")
endif()

# Corpus and metric tests (tests/data/): the Bible subset built from the
# installed Debian packages, and `archex bleu` against python3-nltk's
# corpus_bleu, and `archex eval` on the subset. All exit 77 (skipped)
# when their packages are missing.
add_test(NAME data_corpus_subset
         COMMAND sh ${CMAKE_SOURCE_DIR}/tests/data/corpus.sh
                 $<TARGET_FILE:archex> ${CMAKE_BINARY_DIR}/data_corpus_subset)
set_tests_properties(data_corpus_subset PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
add_test(NAME data_bleu_nltk
         COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/data/bleu_nltk.py
                 $<TARGET_FILE:archex> ${CMAKE_BINARY_DIR}/data_bleu_nltk)
set_tests_properties(data_bleu_nltk PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
add_test(NAME data_eval_subset
         COMMAND sh ${CMAKE_SOURCE_DIR}/tests/data/eval.sh
                 $<TARGET_FILE:archex> ${CMAKE_BINARY_DIR}/data_eval_subset)
set_tests_properties(data_eval_subset PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)

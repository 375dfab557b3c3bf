# bench_smoke: runs `jobrouter-bench --quick --format csv` and checks that it exits 0 and that
# every scenario `--list` names produced at least one CSV row (its name, or name/variant).
# Timings are never checked. Usage: cmake -DBENCH=path/to/jobrouter-bench [-DARGS=a;b] -P smoke_check.cmake
# (ARGS: extra options for the --quick run, e.g. --stores;memory).
execute_process(COMMAND ${BENCH} --list OUTPUT_VARIABLE list RESULT_VARIABLE rc TIMEOUT 30)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "jobrouter-bench --list exited with ${rc}")
endif()
execute_process(COMMAND ${BENCH} --quick --format csv ${ARGS} OUTPUT_VARIABLE csv ERROR_VARIABLE log RESULT_VARIABLE rc
                TIMEOUT 300)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "jobrouter-bench --quick --format csv exited with ${rc}:\n${log}")
endif()
# --list: "scenarios:", then "  NAME  description" lines, then "stores:".
string(REPLACE "\n" ";" lines "${list}")
set(in_scenarios FALSE)
set(count 0)
foreach(line IN LISTS lines)
  if(line STREQUAL "scenarios:")
    set(in_scenarios TRUE)
  elseif(line STREQUAL "stores:")
    set(in_scenarios FALSE)
  elseif(in_scenarios AND line MATCHES "^  ([^ ]+)")
    set(name "${CMAKE_MATCH_1}")
    math(EXPR count "${count} + 1")
    string(REGEX REPLACE "([][+.*?^$()|\\\\])" "\\\\\\1" quoted "${name}")
    # A scenario that runs on none of the selected stores says so on stderr instead.
    if(NOT csv MATCHES "(^|\n)${quoted}(/[^,]*)?," AND NOT log MATCHES "\\[bench\\] ${quoted}: skipped \\(runs on none")
      message(FATAL_ERROR "scenario ${name}: no row in the --quick CSV:\n${csv}\n${log}")
    endif()
  endif()
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "jobrouter-bench --list named no scenario:\n${list}")
endif()
message(STATUS "bench_smoke: ${count} scenarios, each with a row")

# sn_library(NAME SOURCES ... DEPS ...): one static library per libs/<name>, public headers in include/.
function(sn_library name)
    cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
    add_library(${name} STATIC ${ARG_SOURCES})
    target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# sn_test(NAME SOURCES ... DEPS ... [LABELS ...]): a GoogleTest binary registered with ctest.
# Tests that need a live PostgreSQL, RabbitMQ or Redis carry the label "live".
function(sn_test name)
    # RESOURCE_LOCK: tests holding the same lock never run at once (ctest -j), e.g. those that
    # pause a shared server for everybody.
    cmake_parse_arguments(ARG "" "RESOURCE_LOCK" "SOURCES;DEPS;LABELS" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest_main GTest::gmock)
    include(GoogleTest)
    set(properties LABELS "${ARG_LABELS}")
    if(ARG_RESOURCE_LOCK)
        list(APPEND properties RESOURCE_LOCK "${ARG_RESOURCE_LOCK}")
    endif()
    gtest_discover_tests(${name} PROPERTIES ${properties} DISCOVERY_TIMEOUT 30)
    set_property(GLOBAL APPEND PROPERTY SN_TESTS ${name})
endfunction()

# Builds the seed corpus of every fuzz target (run at build time by
# tests/fuzz/CMakeLists.txt):
#   cmake -DSEEDS=tests/fuzz/seeds -DFIXTURES=<SLUICE_FIXTURES_DIR> -DOUT=<build>/tests/fuzz/seeds -P seeds.cmake
# OUT/<target>/ gets, for each target, the hand-written seeds of the kinds it
# reads (SEEDS/<kind>/, kept in the source tree) and what the recorded Gemini
# fixtures hold (read-only, never changed):
#   - every *.json fixture as a body (JSON scanner, pack answers, bare-JSON SSE);
#   - the *.txt SSE recordings as they are;
#   - from each recording_*.json (a recorded exchange): the request body, the
#     request as raw HTTP/1.1 bytes, the response as raw HTTP/1.1 bytes
#     (Content-Length, or chunked with one chunk per recorded segment for a
#     stream) and a streamed response's segments framed as SSE events.
# OUT is rebuilt from scratch each time; nothing is written anywhere else.
cmake_minimum_required(VERSION 3.25)
foreach(var SEEDS FIXTURES OUT)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "seeds.cmake: -D${var}=... is required")
    endif()
endforeach()

file(REMOVE_RECURSE "${OUT}")

# Which hand-written kinds each target reads.
set(kinds_fuzz_jsonscanner json requests pack baseline config)
set(kinds_fuzz_geminirequestparser requests)
set(kinds_fuzz_packcodec pack)
set(kinds_fuzz_geminierror sse errors)
set(kinds_fuzz_httpheaderblock http-requests http-responses handshakes)
set(kinds_fuzz_http1responseparser http-responses)
set(kinds_fuzz_sseparser sse)
set(kinds_fuzz_simhttpconnection http-requests)
set(kinds_fuzz_simulatorrequestreader requests)
set(kinds_fuzz_streamhandshake handshakes)
set(kinds_fuzz_performancebaseline baseline)
set(kinds_fuzz_config config)
set(targets fuzz_jsonscanner fuzz_geminirequestparser fuzz_packcodec fuzz_geminierror fuzz_httpheaderblock fuzz_http1responseparser
            fuzz_sseparser fuzz_simhttpconnection fuzz_simulatorrequestreader fuzz_streamhandshake
            fuzz_performancebaseline fuzz_config)

foreach(target IN LISTS targets)
    file(MAKE_DIRECTORY "${OUT}/${target}")
    foreach(kind IN LISTS kinds_${target})
        file(GLOB files "${SEEDS}/${kind}/*")
        if(files)
            file(COPY ${files} DESTINATION "${OUT}/${target}")
        endif()
    endforeach()
endforeach()

function(seed target name content)
    file(WRITE "${OUT}/${target}/${name}" "${content}")
endfunction()

# HTTP/1.1 header lines from a recorded {"Name": "value"} object, without the
# framing fields (the body is re-serialised, so they are written anew).
function(header_lines json out)
    set(lines "")
    string(JSON n LENGTH "${json}")
    if(n GREATER 0)
        math(EXPR last "${n} - 1")
        foreach(i RANGE ${last})
            string(JSON name MEMBER "${json}" ${i})
            string(JSON value GET "${json}" "${name}")
            string(TOLOWER "${name}" lower)
            if(NOT lower MATCHES "^(content-length|transfer-encoding|content-encoding|host)$")
                string(APPEND lines "${name}: ${value}\r\n")
            endif()
        endforeach()
    endif()
    set(${out} "${lines}" PARENT_SCOPE)
endfunction()

function(hex_length text out)
    string(LENGTH "${text}" n)
    math(EXPR hex "${n}" OUTPUT_FORMAT HEXADECIMAL)
    string(SUBSTRING "${hex}" 2 -1 hex)
    set(${out} "${hex}" PARENT_SCOPE)
endfunction()

# Every *.json fixture as a body; the SSE recordings as they are.
file(GLOB json_fixtures "${FIXTURES}/*.json")
file(GLOB sse_fixtures "${FIXTURES}/*.txt")
if(NOT json_fixtures)
    message(FATAL_ERROR "seeds.cmake: no fixtures in ${FIXTURES} (SLUICE_FIXTURES_DIR)")
endif()
foreach(f IN LISTS json_fixtures)
    foreach(target fuzz_jsonscanner fuzz_packcodec fuzz_sseparser fuzz_geminierror)
        file(COPY "${f}" DESTINATION "${OUT}/${target}")
    endforeach()
endforeach()
foreach(f IN LISTS sse_fixtures)
    file(COPY "${f}" DESTINATION "${OUT}/fuzz_sseparser")
    file(COPY "${f}" DESTINATION "${OUT}/fuzz_jsonscanner")
endforeach()

# The recorded exchanges.
file(GLOB recordings "${FIXTURES}/recording_*.json")
foreach(f IN LISTS recordings)
    get_filename_component(base "${f}" NAME_WLE)
    file(READ "${f}" text)
    string(JSON count LENGTH "${text}" interactions)
    math(EXPR last "${count} - 1")
    foreach(i RANGE ${last})
        set(name "${base}_${i}")
        # The request: its body, and the whole request on the wire.
        string(JSON line GET "${text}" interactions ${i} request request)
        string(JSON headers GET "${text}" interactions ${i} request headers)
        string(JSON segments LENGTH "${text}" interactions ${i} request bodySegments)
        set(body "")
        if(segments GREATER 0)
            string(JSON body GET "${text}" interactions ${i} request bodySegments 0)
            foreach(target fuzz_geminirequestparser fuzz_simulatorrequestreader fuzz_jsonscanner)
                seed(${target} "${name}_request.json" "${body}")
            endforeach()
        endif()
        header_lines("${headers}" lines)
        string(LENGTH "${body}" length)
        set(raw "${line}\r\nHost: generativelanguage.googleapis.com\r\n${lines}Content-Length: ${length}\r\n\r\n${body}")
        seed(fuzz_simhttpconnection "${name}_request.http" "${raw}")
        seed(fuzz_httpheaderblock "${name}_request.http" "${raw}")

        # The response on the wire: one body with Content-Length, or a stream
        # of segments (SSE events), chunked one event a chunk.
        string(JSON status GET "${text}" interactions ${i} response statusCode)
        string(JSON headers GET "${text}" interactions ${i} response headers)
        string(JSON segments LENGTH "${text}" interactions ${i} response bodySegments)
        header_lines("${headers}" lines)
        set(head "HTTP/1.1 ${status} Recorded\r\n${lines}")
        if(segments EQUAL 1)
            string(JSON body GET "${text}" interactions ${i} response bodySegments 0)
            string(LENGTH "${body}" length)
            seed(fuzz_http1responseparser "${name}_response.http" "${head}Content-Length: ${length}\r\n\r\n${body}")
            foreach(target fuzz_packcodec fuzz_jsonscanner fuzz_sseparser)
                seed(${target} "${name}_response.json" "${body}")
            endforeach()
        elseif(segments GREATER 1)
            set(chunked "${head}Transfer-Encoding: chunked\r\n\r\n")
            set(sse "")
            math(EXPR lastSegment "${segments} - 1")
            foreach(s RANGE ${lastSegment})
                string(JSON segment GET "${text}" interactions ${i} response bodySegments ${s})
                string(REPLACE "\n" "" segment "${segment}") # one SSE data line per event
                set(event "data: ${segment}\r\n\r\n")
                string(APPEND sse "${event}")
                hex_length("${event}" hex)
                string(APPEND chunked "${hex}\r\n${event}\r\n")
            endforeach()
            string(APPEND chunked "0\r\n\r\n")
            seed(fuzz_http1responseparser "${name}_response.http" "${chunked}")
            seed(fuzz_sseparser "${name}_response.sse" "${sse}")
        endif()
    endforeach()
endforeach()

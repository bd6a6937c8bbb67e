# The git commit `certauth --version` names, found when the build runs (not
# when it is configured), so that a commit followed by a rebuild is named
# without configuring again.
#
# certauth_git_commit(VAR DIR): the abbreviated commit checked out in DIR
# (`git rev-parse --short HEAD`), or "unknown" when DIR is not the top of a
# git checkout (a source tarball, even one unpacked inside another
# repository) or git is missing.
#
# certauth_commit_header(TARGET DIR HEADER): a target, run at every build,
# that writes HEADER (`inline constexpr const char* k_commit = "...";` in
# namespace certauth::cli) with DIR's commit, and rewrites it only when that
# changes, so that what includes it is compiled again only then.
#
# Script mode: cmake -D DIR=path -P cmake/git_commit.cmake prints DIR's
# commit; with -D HEADER=file it writes (or leaves) the header instead.

function(certauth_git_commit var dir)
  set(commit "unknown")
  find_program(CERTAUTH_GIT git)
  if(CERTAUTH_GIT)
    execute_process(
      COMMAND ${CERTAUTH_GIT} -C ${dir} rev-parse --show-toplevel --short HEAD
      OUTPUT_VARIABLE out
      RESULT_VARIABLE rc
      OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(rc EQUAL 0 AND out MATCHES "^(.+)\n([0-9a-f]+)$")
      set(top ${CMAKE_MATCH_1})
      set(short ${CMAKE_MATCH_2})
      file(REAL_PATH ${top} top)
      file(REAL_PATH ${dir} here)
      if(top STREQUAL here)
        set(commit ${short})
      endif()
    endif()
  endif()
  set(${var} ${commit} PARENT_SCOPE)
endfunction()

function(certauth_write_commit_header dir header)
  certauth_git_commit(commit ${dir})
  string(CONCAT text "#pragma once\n// Generated at build time by cmake/git_commit.cmake: the commit built.\n\n"
         "namespace certauth::cli {\n\ninline constexpr const char* k_commit = \"${commit}\";\n\n"
         "} // namespace certauth::cli\n")
  set(old "")
  if(EXISTS ${header})
    file(READ ${header} old)
  endif()
  if(NOT old STREQUAL text)
    file(WRITE ${header} "${text}")
  endif()
endfunction()

function(certauth_commit_header target dir header)
  add_custom_target(${target}
    COMMAND ${CMAKE_COMMAND} -D DIR=${dir} -D HEADER=${header} -P ${CMAKE_CURRENT_FUNCTION_LIST_FILE}
    BYPRODUCTS ${header}
    COMMENT "The git commit of ${dir}"
    VERBATIM)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  if(HEADER)
    certauth_write_commit_header("${DIR}" "${HEADER}")
  else()
    certauth_git_commit(commit "${DIR}")
    execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${commit}")
  endif()
endif()

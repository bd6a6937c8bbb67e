# certauth_git_commit(VAR DIR): the abbreviated commit checked out in DIR
# (`git rev-parse --short HEAD`), or "unknown" outside a git checkout or
# without git. Configuration runs again when HEAD moves (a commit, a
# checkout), so `certauth --version` names the commit that was built.
#
# Script mode, for tests: cmake -D DIR=path -P cmake/git_commit.cmake
# prints the commit for DIR.

function(certauth_git_commit var dir)
  set(commit "unknown")
  find_program(CERTAUTH_GIT git)
  if(CERTAUTH_GIT)
    execute_process(
      COMMAND ${CERTAUTH_GIT} -C ${dir} rev-parse --short HEAD
      OUTPUT_VARIABLE out
      RESULT_VARIABLE rc
      OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(rc EQUAL 0 AND out MATCHES "^[0-9a-f]+$")
      set(commit ${out})
      execute_process(
        COMMAND ${CERTAUTH_GIT} -C ${dir} rev-parse --path-format=absolute --git-path logs/HEAD
        OUTPUT_VARIABLE head_log
        RESULT_VARIABLE rc
        OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
      if(rc EQUAL 0 AND EXISTS ${head_log} AND NOT CMAKE_SCRIPT_MODE_FILE)
        set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${head_log})
      endif()
    endif()
  endif()
  set(${var} ${commit} PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  certauth_git_commit(commit "${DIR}")
  execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${commit}")
endif()

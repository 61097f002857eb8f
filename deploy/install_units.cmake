# Run by `cmake --install` (install(SCRIPT)): writes the systemd units with @PREFIX@
# replaced by the install prefix given at install time (--prefix), not at configure time.
# QJ_UNIT_SRC is set by deploy/CMakeLists.txt.
file(GLOB units "${QJ_UNIT_SRC}/*.service")
set(dest "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
file(MAKE_DIRECTORY "${dest}")
foreach(unit ${units})
  get_filename_component(name "${unit}" NAME)
  file(READ "${unit}" text)
  string(REPLACE "@PREFIX@" "${CMAKE_INSTALL_PREFIX}" text "${text}")
  message(STATUS "Installing: ${dest}/${name}")
  file(WRITE "${dest}/${name}" "${text}")
endforeach()

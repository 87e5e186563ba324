# manpage.cmake -- dvm(1) from the usage text (cmake -P):
#   cmake -DDVM=path/to/dvm -DOUT=dvm.1 -P manpage.cmake
# The usage text (`dvm --help`) is the one description of the options, so
# the manual page is generated from it at build time and cannot drift.
execute_process(COMMAND ${DVM} --help OUTPUT_VARIABLE usage RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "dvm --help failed")
endif()
execute_process(COMMAND ${DVM} --version OUTPUT_VARIABLE version
                OUTPUT_STRIP_TRAILING_WHITESPACE)
# roff: a backslash is \e; a line starting with . or ' is protected by \&.
string(REPLACE "\\" "\\e" usage "${usage}")
string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" usage "${usage}")
string(REPLACE "-" "\\-" usage "${usage}")
file(WRITE ${OUT} ".TH DVM 1 \"\" \"${version}\" \"User Commands\"
.SH NAME
dvm \\- the datacenter virtual machine: assemble and run DISA programs
.SH SYNOPSIS
.nf
${usage}.fi
.SH DESCRIPTION
.B dvm run
runs a DISA program on an embedded single-host DVM: a master process and
RComp processes, one per CPU by default.
With
.BR \\-\\-http ,
the master serves its metrics in the Prometheus text format at
.I /metrics
and a live dashboard at
.IR / .
.SH VERSION
${version}
.SH FILES
.TP
.I /etc/default/dvm
settings of the dvm\\-master and dvm\\-node services.
.TP
.I /usr/share/dvm/examples
example programs.
.SH SEE ALSO
.BR systemctl (1)
")

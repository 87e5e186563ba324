# embed.cmake -- writes a file's bytes as a C array (cmake -P):
#   cmake -DIN=file -DOUT=file.c -DSYM=name -P embed.cmake
# defines `const unsigned char SYM[]` (NUL-terminated) and
# `const size_t SYM_len` (without the NUL).
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" nhex)
math(EXPR n "${nhex} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" body "${body}")
file(WRITE ${OUT}
  "/* Generated from ${IN} by cmake/embed.cmake; do not edit. */\n"
  "#include <stddef.h>\n"
  "const unsigned char ${SYM}[] = {\n${body}0x00\n};\n"
  "const size_t ${SYM}_len = ${n};\n")

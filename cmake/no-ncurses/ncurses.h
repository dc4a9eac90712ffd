/* Poison header: this folder is on the include path of every target except
 * tcplab_tui's term.c, so an ncurses include anywhere else stops the build.
 * Only ui/tui/term.c talks to the terminal; everything else draws into the
 * screen model (ui/tui/screen.h). See docs/architecture.md. */
#error "only ui/tui/term.c may include ncurses (see docs/architecture.md)"

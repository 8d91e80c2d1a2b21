# ui/: ncurses + readline screen; knows nothing of engine internals.
noinst_LIBRARIES += ui/libglmui.a
ui_libglmui_a_CPPFLAGS = $(AM_CPPFLAGS) $(NCURSESW_CFLAGS) $(READLINE_CFLAGS)
ui_libglmui_a_SOURCES = \
	ui/ui.h \
	ui/wrap.c ui/wrap.h ui/width_table.h \
	ui/statusbar.c ui/statusbar.h \
	ui/commands.c ui/commands.h \
	ui/transcript.c ui/transcript.h \
	ui/term_restore.c ui/term_restore.h \
	ui/input.c ui/keys.c ui/editor.c ui/screen.c ui/ui.c ui/ui_internal.h \
	ui/page.c ui/page.h ui/help_view.c ui/stats_view.c ui/clipboard.c \
	ui/reasoning_view.c ui/events.c
EXTRA_DIST += ui/gen_width.py
UI_LIBS = ui/libglmui.a $(NCURSESW_LIBS) $(READLINE_LIBS)

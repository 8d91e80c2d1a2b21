# ui/: ncurses + readline screen; knows nothing of engine internals.
noinst_LIBRARIES += ui/libglmui.a
ui_libglmui_a_CPPFLAGS = $(AM_CPPFLAGS) $(NCURSESW_CFLAGS) $(READLINE_CFLAGS)
ui_libglmui_a_SOURCES = \
	ui/ui.h
UI_LIBS = ui/libglmui.a $(NCURSESW_LIBS) $(READLINE_LIBS)

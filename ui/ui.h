/* PLACEHOLDER: the screen's public interface (issue 6). */
#ifndef GLM_UI_H
#define GLM_UI_H
#endif

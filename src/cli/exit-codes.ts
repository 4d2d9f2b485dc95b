// Exit codes shared by every command.
export const EXIT_OK = 0;
/** The verdict was negative: artifact rejected, patch not resolved. */
export const EXIT_NEGATIVE = 1;
/** Usage error or broken infrastructure; the reason is on stderr. */
export const EXIT_ERROR = 2;

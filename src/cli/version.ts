/** The CLI's own version, shown by `--version`, `version` and `info`. */
export const BERTH_VERSION = '0.1.0';

/**
 * The one rule for a config key (`hex8_2p`), wherever a key enters: payload schemas, `--configs`,
 * job inputs. A key becomes an argv element of a worker command and part of file paths
 * (`models/<key>/gen3.pth`), so it may not start with `-` (read as a flag), contain `/` or `..`
 * (a path outside its directory) or whitespace, and it is short.
 */

/** Letters, digits, `_`, `.` and `-`; starting with a letter or digit; 1 to 64 characters; no `..`. */
export const CONFIG_KEY_PATTERN = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const CONFIG_KEY_RULE =
  'a config key: 1-64 letters, digits, _ . or -, starting with a letter or digit, without ".."';

/**
 * True for a key that satisfies the rule.
 * @example
 * isValidConfigKey('hex8_2p'); // true
 * isValidConfigKey('--help'); // false
 */
export function isValidConfigKey(value: unknown): value is string {
  return typeof value === 'string' && CONFIG_KEY_PATTERN.test(value);
}

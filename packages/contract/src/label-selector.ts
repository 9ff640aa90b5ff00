/** One requirement of a label selector, as Kubernetes' `LabelSelectorRequirement`. */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /** `In` / `NotIn`: at least one value; `Exists` / `DoesNotExist`: none. */
  readonly values?: readonly string[];
}

/**
 * A Kubernetes label selector (`metav1.LabelSelector`): every `matchLabels` pair and every
 * `matchExpressions` requirement must hold. An empty selector selects everything.
 */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

/** Labels as objects carry them; undefined is no labels. */
export type Labels = Readonly<Record<string, string>> | undefined;

/**
 * True when `labels` satisfy `selector`, with Kubernetes' semantics: `In` needs the key with one of
 * the values, `NotIn` the key absent or with none of them, `Exists` the key, `DoesNotExist` its absence.
 */
export function labelSelectorMatches(selector: LabelSelector, labels: Labels): boolean {
  const has = (key: string) => labels !== undefined && Object.hasOwn(labels, key);
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (!has(key) || labels?.[key] !== value) return false;
  for (const requirement of selector.matchExpressions ?? []) {
    const value = has(requirement.key) ? labels?.[requirement.key] : undefined;
    const values = requirement.values ?? [];
    switch (requirement.operator) {
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
      default:
        // An operator the contract does not know selects nothing rather than everything.
        return false;
    }
  }
  return true;
}

/** True for a selector with no requirement at all (selects everything). */
export function isEmptyLabelSelector(selector: LabelSelector | undefined): boolean {
  return selector === undefined || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
}

/**
 * The selector in the `labelSelector` query syntax of list and watch requests
 * (`app=web,tier in (a,b),!legacy`), requirements sorted so equal selectors give equal strings.
 */
export function labelSelectorString(selector: LabelSelector): string {
  const parts: string[] = [];
  for (const key of Object.keys(selector.matchLabels ?? {}).sort()) parts.push(`${key}=${selector.matchLabels?.[key]}`);
  for (const requirement of selector.matchExpressions ?? []) {
    const values = [...(requirement.values ?? [])].sort().join(',');
    if (requirement.operator === 'In') parts.push(`${requirement.key} in (${values})`);
    else if (requirement.operator === 'NotIn') parts.push(`${requirement.key} notin (${values})`);
    else if (requirement.operator === 'Exists') parts.push(requirement.key);
    else parts.push(`!${requirement.key}`);
  }
  return parts.sort().join(',');
}

/** Why a selector is not one Kubernetes accepts, or undefined (used by config validation). */
export function labelSelectorProblem(selector: LabelSelector): string | undefined {
  for (const requirement of selector.matchExpressions ?? []) {
    const count = requirement.values?.length ?? 0;
    if ((requirement.operator === 'In' || requirement.operator === 'NotIn') && count === 0) return `${requirement.operator} on "${requirement.key}" needs at least one value`;
    if ((requirement.operator === 'Exists' || requirement.operator === 'DoesNotExist') && count > 0) return `${requirement.operator} on "${requirement.key}" takes no values`;
  }
  for (const [key, value] of [...Object.entries(selector.matchLabels ?? {}), ...(selector.matchExpressions ?? []).flatMap((r) => (r.values ?? []).map((v) => [r.key, v] as const))]) {
    if (!LABEL_KEY.test(key)) return `"${key}" is not a label key (an optional DNS prefix and "/", then a name of letters, digits, "-", "_", ".")`;
    if (value !== '' && !LABEL_VALUE.test(value)) return `"${value}" (for "${key}") is not a label value (up to 63 letters, digits, "-", "_", ".", starting and ending with a letter or digit)`;
  }
  return undefined;
}

const LABEL_NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const LABEL_KEY = new RegExp(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?${LABEL_NAME}$`);
const LABEL_VALUE = new RegExp(`^${LABEL_NAME}$`);

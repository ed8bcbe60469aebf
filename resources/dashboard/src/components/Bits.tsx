import { formatCount } from '../format';

export interface StatProps {
  id: string;
  label: string;
  /** The raw number, exposed as data-value for tests; undefined shows a dash. */
  value: number | undefined;
  text: string;
  sub?: string | undefined;
  emphasis?: boolean;
  level?: string | undefined;
  /** What the figure means, as a tooltip. */
  title?: string | undefined;
}

/** One big number with its unit in the text. */
export function Stat({ id, label, value, text, sub, emphasis, level, title }: StatProps) {
  return (
    <div className={`stat${emphasis ? ' emphasis' : ''}${level ? ` level-${level}` : ''}`} title={title}>
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={id} data-value={value ?? ''}>
        {text}
      </div>
      {sub ? <div className="stat-sub">{sub}</div> : null}
    </div>
  );
}

export interface BarItem {
  key: string;
  label: string;
  value: number;
}

/** Horizontal bars with the count written at the end: cheap and readable. */
export function Bars({
  items,
  unit,
  empty,
  testId,
  xLabel,
  tone,
}: {
  items: BarItem[];
  unit: string;
  empty: string;
  testId: string;
  xLabel?: string;
  tone?: 'bad';
}) {
  const max = Math.max(0, ...items.map((i) => i.value));
  if (max === 0) {
    return (
      <p className="empty" data-testid={testId} data-empty="true">
        {empty}
      </p>
    );
  }
  return (
    <div className="bars" data-testid={testId}>
      {xLabel ? (
        <div className="bars-head">
          <span>{xLabel}</span>
          <span>{unit}</span>
        </div>
      ) : null}
      {items.map((i) => (
        <div className="bar-row" key={i.key}>
          <span className="bar-label">{i.label}</span>
          <div className="bar-track">
            <div className={`bar-fill${tone === 'bad' ? ' bad' : ''}`} style={{ width: `${(i.value / max) * 100}%` }} />
          </div>
          <span className="bar-value" data-testid={`${testId}-${i.key}`} data-value={i.value}>
            {formatCount(i.value)}
          </span>
        </div>
      ))}
    </div>
  );
}

import { useQuery } from '@apollo/client/react';
import { count } from '../format';
import { TAGS } from '../operations';

/**
 * The directory's tags with how many clients carry each (`tags`, most carried first), as
 * toggles beside the filter's Tags field: a click adds the tag to the filter or takes it out.
 */
export function TagPicker({ selected, onChange, disabled }: { selected: string[]; onChange: (tags: string[]) => void; disabled?: boolean }) {
  const { data } = useQuery(TAGS, { fetchPolicy: 'cache-and-network' });
  const tags = data?.tags ?? [];
  if (tags.length === 0) return null;
  const toggle = (name: string) => onChange(selected.includes(name) ? selected.filter((t) => t !== name) : [...selected, name]);
  return (
    <div className="tag-picker" role="group" aria-label="tags in the directory">
      {tags.map((t) => (
        <button
          type="button"
          key={t.name}
          className={`tag-choice ${selected.includes(t.name) ? 'chosen' : ''}`}
          aria-pressed={selected.includes(t.name)}
          data-tag={t.name}
          disabled={disabled}
          onClick={() => toggle(t.name)}
        >
          {t.name} <span className="tag-count">{count(t.clientCount)}</span>
        </button>
      ))}
    </div>
  );
}

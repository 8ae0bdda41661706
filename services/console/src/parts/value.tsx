import { showValue } from '../lib/format';

/** One stored value as people read it; the stored text is on hover where the display differs. */
export function Value({ value, type }: { value: string | null | undefined; type: string }) {
  const shown = showValue(value, type);
  switch (shown.kind) {
    case 'null':
      return <span class="null">NULL</span>;
    case 'masked':
      return <span class="masked">{shown.text}</span>;
    case 'bool':
      return <span title={value ?? ''}>{shown.text}</span>;
    case 'tags':
      return (
        <ul class="tags" aria-label="array">
          {shown.tags.map((tag, index) => (
            <li key={index}>{tag}</li>
          ))}
        </ul>
      );
    case 'json':
      return (
        <details>
          <summary>JSON</summary>
          <pre>{shown.text}</pre>
        </details>
      );
    case 'time':
      return <time title={shown.stored}>{shown.text}</time>;
    case 'text':
      return <span class="text">{shown.text}</span>;
  }
}

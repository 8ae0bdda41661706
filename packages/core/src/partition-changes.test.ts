import { describe, expect, it } from 'vitest';
import { parsePartitionChange, partitionChangeConcerns } from './partition-changes.js';

const marker = {
  name: 'partition.detach', rootSchema: 'public', rootTable: 'readings', partition: 'public.readings_us', parent: 'public.readings',
  bounds: "FOR VALUES IN ('us')", command: 'ALTER TABLE', publications: ['walaudit'],
};

describe('partition change markers', () => {
  it('become an action of the partitioned table, without the publication list', () => {
    expect(parsePartitionChange(marker)).toEqual({
      schema: 'public',
      table: 'readings',
      action: { name: 'partition.detach', partition: 'public.readings_us', parent: 'public.readings', bounds: "FOR VALUES IN ('us')", command: 'ALTER TABLE' },
    });
  });

  it('are not guessed at when a field is missing or the name is not a partition change', () => {
    expect(parsePartitionChange({ ...marker, rootTable: undefined })).toBeNull();
    expect(parsePartitionChange({ ...marker, partition: 3 })).toBeNull();
    expect(parsePartitionChange({ ...marker, name: 'rules.exclude' })).toBeNull();
  });

  it('concern only the readers of a publication they name', () => {
    expect(partitionChangeConcerns(JSON.stringify(marker), 'walaudit')).toBe(true);
    expect(partitionChangeConcerns(JSON.stringify(marker), 'other')).toBe(false);
    expect(partitionChangeConcerns(JSON.stringify({ ...marker, publications: undefined }), 'other')).toBe(true);
    expect(partitionChangeConcerns('not json', 'other')).toBe(true);
  });
});

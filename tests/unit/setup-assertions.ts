// Every unit test must assert something: a test without a single expect() cannot fail when the
// code it names breaks. vitest counts the assertions of each test and fails one that made none.
import { beforeEach, expect } from 'vitest'

beforeEach(() => {
  expect.hasAssertions()
})

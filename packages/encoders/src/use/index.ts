export {
  DEFAULT_SENTENCE_TEMPLATE,
  type EmbeddingMatrix,
  SENTENCE_EMBEDDING_SIZE,
  SENTENCE_TEMPLATES,
  type SentenceClassifyOptions,
  type SentenceEncodeOptions,
  UniversalSentenceEncoder,
  type UniversalSentenceEncoderLoadOptions,
} from './encoder';
export { buildRaggedBatch, type RaggedBatch } from './ragged';
export { UniversalSentenceEncoderTokenizer } from './tokenizer';
export { parseVocabulary, type VocabularyEntry, type VocabularySource } from './vocabulary';

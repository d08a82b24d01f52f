import { decodeIdx, MNIST_FILES, mnistSplitFromIdx, type Mnist, type MnistSplit } from "@mnist/data";

/** Downloads the gzipped IDX files served with the page (see vite.config.ts) and decodes them. */
export async function fetchMnist(baseUrl: URL, onProgress: (loadedBytes: number) => void): Promise<Mnist> {
  let loaded = 0;
  const fetchIdx = async (name: string) => {
    const url = new URL(`${name}.gz`, baseUrl);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`fetching ${url.href} failed: HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    loaded += bytes.length;
    onProgress(loaded);
    return { array: decodeIdx(bytes, url.pathname), source: url.pathname };
  };
  const split = async (images: string, labels: string): Promise<MnistSplit> => {
    const [imageFile, labelFile] = await Promise.all([fetchIdx(images), fetchIdx(labels)]);
    return mnistSplitFromIdx(imageFile.array, labelFile.array, imageFile.source, labelFile.source);
  };
  const [train, test] = await Promise.all([
    split(MNIST_FILES.trainImages, MNIST_FILES.trainLabels),
    split(MNIST_FILES.testImages, MNIST_FILES.testLabels),
  ]);
  return { train, test };
}

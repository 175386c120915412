import Dispatch
import Foundation
import Inference
import Logging

/// The program every tier's Kubernetes Job runs: load the model, classify, log the result, finish.
public struct InferenceJob: Sendable {
    /// What to run.
    public let configuration: JobConfiguration
    private let logger: Logger

    /// Creates a job that logs progress through `logger`.
    public init(configuration: JobConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs the job.
    ///
    /// - Returns: the summary to print.
    /// - Throws: `JobError` when the model, the data or the inline images cannot be used.
    public func run() throws(JobError) -> JobSummary {
        let started = DispatchTime.now()

        // 1. The model, checked against the dataset and type asked for.
        let model = try loadModel()
        let metadata = model.metadata
        logger.info(
            "model loaded",
            ["model": metadata.name, "architecture": metadata.architecture, "classes": metadata.classes.count])

        // 2. The images: the evaluation split, or the inline ones.
        switch configuration.work {
        case .evaluate:
            let split = metadata.evaluation
            let images = try loadEvaluation(split, for: model)
            logger.info(
                "scoring evaluation split", ["images": split.images, "start": split.start, "samples": images.count])
            let predictions = model.classify(images.pixels)
            let correct = zip(predictions, images.labels).count { $0.label == $1 }
            let accuracy = Double(correct) / Double(images.count)
            logger.info("scored", ["correct": correct, "samples": images.count, "accuracy": accuracy])
            return JobSummary(
                dataset: metadata.dataset, model: metadata.name, type: metadata.type, mode: "evaluate",
                samples: images.count, correct: correct, accuracy: accuracy,
                split: "\(split.images)[\(split.start)..<\(split.start + split.count)]", predictions: nil,
                durationMs: Self.milliseconds(since: started))

        case .predict(let document):
            let batch: ImageBatch
            do {
                batch = try ImageBatch(json: document, width: metadata.input.width, height: metadata.input.height)
            } catch {
                throw JobError.input("inline input rejected: \(error.message)")
            }
            logger.info("classifying inline images", ["samples": batch.count])
            let predictions = model.classify(batch.pixels).enumerated().map { index, prediction in
                JobSummary.ImagePrediction(
                    index: index, label: prediction.label, className: prediction.className,
                    probabilities: prediction.probabilities)
            }
            logger.info(
                "classified",
                ["samples": batch.count, "labels": predictions.map { String($0.label) }.joined(separator: ",")])
            return JobSummary(
                dataset: metadata.dataset, model: metadata.name, type: metadata.type, mode: "predict",
                samples: batch.count, correct: nil, accuracy: nil, split: nil, predictions: predictions,
                durationMs: Self.milliseconds(since: started))
        }
    }

    private func loadModel() throws(JobError) -> Model {
        let url = configuration.metadataURL
        try Self.checkDirectory(configuration.modelDirectory, variable: "MODEL_DIR")
        guard FileManager.default.fileExists(atPath: url.path) else {
            let available = availableModels()
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            throw JobError.configuration(
                "no model for DATASET=\(configuration.dataset) TYPE=\(configuration.type): \(url.path) does not exist "
                    + "(models in MODEL_DIR=\(configuration.modelDirectory.path): \(list))")
        }
        let model: Model
        do {
            model = try Model.load(metadataAt: url)
        } catch {
            throw JobError.files(error.message)
        }
        guard model.metadata.dataset == configuration.dataset, model.metadata.type == configuration.type else {
            throw JobError.files(
                "\(url.path) describes a \(model.metadata.type) model for \(model.metadata.dataset), "
                    + "not TYPE=\(configuration.type) for DATASET=\(configuration.dataset)")
        }
        return model
    }

    private func loadEvaluation(_ split: ModelMetadata.DataSplit, for model: Model) throws(JobError) -> LabeledImages {
        let directory = configuration.dataDirectory
        try Self.checkDirectory(directory, variable: "DATA_DIR")
        let images: LabeledImages
        do {
            images = try LabeledImages.load(
                images: directory.appendingPathComponent(split.images),
                labels: directory.appendingPathComponent(split.labels), start: split.start, count: split.count)
        } catch {
            throw JobError.files("\(error.message) (DATA_DIR=\(directory.path))")
        }
        let input = model.metadata.input
        guard input.channels == 1, images.height == input.height, images.width == input.width else {
            throw JobError.files(
                "\(split.images) holds \(images.width)x\(images.height) images but \(model.metadata.name) takes "
                    + "\(input.width)x\(input.height) with \(input.channels) channel(s)")
        }
        let classes = model.metadata.classes.count
        if let index = images.labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
            throw JobError.files(
                "\(split.labels) has label \(images.labels[index]) for image \(split.start + index); "
                    + "\(model.metadata.name) has \(classes) classes (0-\(classes - 1))")
        }
        return images
    }

    /// Says which of "missing", "not a directory" and "not readable" a configured directory is.
    private static func checkDirectory(_ url: URL, variable: String) throws(JobError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw JobError.configuration("\(variable)=\(url.path) does not exist")
        }
        guard isDirectory.boolValue else {
            throw JobError.configuration("\(variable)=\(url.path) is a file; expected a directory")
        }
        guard FileManager.default.isReadableFile(atPath: url.path),
            FileManager.default.isExecutableFile(atPath: url.path)
        else {
            throw JobError.configuration("\(variable)=\(url.path) cannot be read: permission denied")
        }
    }

    /// The `<dataset>-<type>` names of the metadata files in the model directory.
    private func availableModels() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: configuration.modelDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasSuffix(".golden.json") }
            .map { String($0.dropLast(".json".count)) }.sorted()
    }

    private static func milliseconds(since start: DispatchTime) -> Double {
        let nanoseconds = DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds
        return (Double(nanoseconds) / 1e4).rounded() / 100
    }
}

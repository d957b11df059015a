//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The main() of a fuzz target in ordinary builds (no libFuzzer): runs the
// target once on every file of the directories or files named on the
// command line, so that the seed corpus and every input that once crashed
// (test/fuzz/corpus/<target>/) are a CTest test of each build.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>
#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size);

namespace {

void run(std::filesystem::path const& file, std::size_t& count)
{
    std::ifstream f(file, std::ios::binary);
    std::string const bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if(!f.good() && !f.eof())
    {
        std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
        std::exit(2);
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<std::uint8_t const*>(bytes.data()), bytes.size());
    ++count;
}

} // namespace

int main(int argc, char** argv)
{
    std::size_t count = 0;
    for(int i = 1; i < argc; ++i)
    {
        std::filesystem::path const p(argv[i]);
        if(std::filesystem::is_directory(p))
        {
            std::vector<std::filesystem::path> files;
            for(auto const& e : std::filesystem::directory_iterator(p))
                if(e.is_regular_file())
                    files.push_back(e.path());
            std::sort(files.begin(), files.end());
            for(auto const& f : files)
                run(f, count);
        }
        else if(std::filesystem::exists(p))
            run(p, count);
        else
        {
            std::fprintf(stderr, "replay: %s does not exist\n", argv[i]);
            return 2;
        }
    }
    if(count == 0)
    {
        std::fprintf(stderr, "replay: no input given\n");
        return 2;
    }
    std::printf("replay: %zu inputs, no failure\n", count);
    return 0;
}
